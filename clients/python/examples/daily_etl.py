"""The DAG of docs/examples/daily_etl.yaml, built in Python.

    python3 examples/daily_etl.py show      prints the document
    python3 examples/daily_etl.py deploy    registers it (WEFT_API_URL, WEFT_API_KEY)
"""
from datetime import datetime, timedelta, timezone

from weft_dag import DAG, CustomTask, HttpTask, NoopTask, ShellTask

with DAG(
    "daily_etl",
    description="Extract two sources, transform them on a worker, load the result",
    schedule="0 6 * * *",
    timezone="Europe/Amsterdam",
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["etl"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "owner": "data-eng"},
) as dag:
    orders = ShellTask(task_id="extract_orders", command="echo orders for {{ ds }}")
    customers = ShellTask(task_id="extract_customers", command="echo customers for {{ ds }}", env={"REGION": "eu"})
    transform = CustomTask(task_id="transform", type="etl.transform", queue="python", args={"date": "{{ ds }}"})
    load = HttpTask(
        task_id="load",
        xcom_pull=["transform"],
        request={"method": "POST", "url": "https://warehouse.example.com/load", "body": {"date": "{{ ds }}"}},
        execution_timeout=timedelta(minutes=10),
    )
    notify = NoopTask(task_id="notify", trigger_rule="all_done")

    [orders, customers] >> transform >> [load, notify]

if __name__ == "__main__":
    dag.cli()
