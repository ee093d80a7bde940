from __future__ import absolute_import

# flake8: noqa

# import apis into api package
from weft_client.api.alerts_api import AlertsApi
from weft_client.api.api_keys_api import ApiKeysApi
from weft_client.api.audit_api import AuditApi
from weft_client.api.backfills_api import BackfillsApi
from weft_client.api.dag_runs_api import DagRunsApi
from weft_client.api.dags_api import DagsApi
from weft_client.api.datasets_api import DatasetsApi
from weft_client.api.health_api import HealthApi
from weft_client.api.leases_api import LeasesApi
from weft_client.api.pools_api import PoolsApi
from weft_client.api.webhooks_api import WebhooksApi
