"""The Airflow plugin: the Provisioning pages (sync history, reports, why a user is where they are).

``plugin.py`` declares it to Airflow; ``app.py`` serves the pages; ``history.py``
reads what they show; ``access.py`` asks Airflow's auth manager who may see it;
``links.py`` is the report task's "Sync report" link.
"""
