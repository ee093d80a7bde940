"""A TaskFlow-style pipeline and its worker in one file: each @task function is a task of the DAG, run by the
worker this same file starts.

    python3 examples/taskflow_etl.py deploy     registers the DAG (WEFT_API_URL, WEFT_API_KEY)
    python3 examples/taskflow_etl.py worker     runs the @task functions until SIGTERM/SIGINT
    python3 examples/taskflow_etl.py show       prints the document
"""
from weft_dag import DAG, task
from weft_worker import TaskFailure

with DAG("taskflow_etl", schedule=None, tags=["example"], default_args={"queue": "taskflow", "retries": 1}) as dag:

    @task
    def extract(day):
        # "{{ ds }}" was rendered by the service: day is the run's logical date.
        return {"day": day, "orders": [3, 5, 8]}

    @task
    def transform(data, factor=1, ctx=None):
        total = sum(data["orders"]) * factor
        ctx.log("%d orders on %s, total %d" % (len(data["orders"]), data["day"], total))
        return {"day": data["day"], "total": total}

    @task(retries=0)
    def check(summary, minimum):
        minimum = int(minimum)  # templates render to strings
        if summary["total"] < minimum:
            raise TaskFailure("total %d is below %d" % (summary["total"], minimum))
        return "ok: %d" % summary["total"]

    check(transform(extract("{{ ds }}"), factor=2), minimum="{{ dag_run.conf.minimum | default: 1 }}")

if __name__ == "__main__":
    dag.cli()
