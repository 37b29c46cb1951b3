"""The DAG's per-task logic. The DAG file (``dags/confluence_provisioning_dag.py``) only wires it.

- ``context``: a DAG run as the library sees it (params, rules, run folder, audit identity);
- ``dag_config``: what the DAG needs when its file is parsed (rules folder, schedule, retries);
- ``tasks``: the body of each task but the report; ``plan_files``: the plan as chunk files;
- ``recording``: the report task (audit history, report files, pruning);
- ``outcome``: what results mean for the history (pure); ``tasklog``: log groups and summaries.
"""
