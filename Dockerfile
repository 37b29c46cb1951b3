# The DAG on the official Apache Airflow image: for an Astro project's local runs (`astro dev
# start` with this repository as the project), for docker compose, and as the image the
# official Helm chart runs (deploy/helm/values.yaml).
FROM apache/airflow:3.3.2-python3.11

# OS packages the tasks need (packages.txt, one a line; an Astro project installs it the same way)
USER root
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
 && xargs -a /tmp/packages.txt apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/packages.txt
USER airflow

# what the DAG needs at run time, at the tested versions; nothing for development
COPY requirements.txt constraints.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/constraints.txt

# the library as an installed package (it registers the ldap and confluence connection types),
# the DAG and its rules
COPY --chown=airflow:root pyproject.toml README.md /opt/airflow/project/
COPY --chown=airflow:root plugins /opt/airflow/project/plugins
RUN pip install --no-cache-dir --no-deps /opt/airflow/project
COPY --chown=airflow:root dags/confluence_provisioning_dag.py /opt/airflow/dags/
COPY --chown=airflow:root include/mapping_rules /opt/airflow/include/mapping_rules
# the DAG looks for its rules beside dags/ (or where the Variable confluence_provisioning_rules_dir says)
ENV AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR=/opt/airflow/include/mapping_rules
# Arrow's default allocator (mimalloc) hands freed memory back at once, so each task process pays
# the kernel again for every large column it builds; jemalloc keeps it (bench/RESULTS.md, Entra:
# the incremental read's kernel time 0.9 -> 0.15 s). Process-wide, hence here and not in the library.
ENV ARROW_DEFAULT_MEMORY_POOL=jemalloc
