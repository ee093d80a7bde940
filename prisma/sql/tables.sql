-- Every table of the schema as the migrations leave it (its constraints: constraints.sql; indexes: indexes.sql).
CREATE TYPE public."ApiKeyRole" AS ENUM ('admin', 'operator', 'viewer', 'worker');
CREATE TYPE public."DagSource" AS ENUM ('api', 'folder');
CREATE TYPE public."DeliveryState" AS ENUM ('pending', 'delivered', 'failed');
CREATE TYPE public."ReprocessBehavior" AS ENUM ('none', 'failed', 'completed');
CREATE TYPE public."RunState" AS ENUM ('queued', 'running', 'success', 'failed');
CREATE TYPE public."RunType" AS ENUM ('scheduled', 'manual', 'backfill', 'dataset_triggered');
CREATE TYPE public."TaskState" AS ENUM ('none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped', 'removed');
CREATE TABLE public.alert_deliveries (
    id integer DEFAULT nextval('alert_deliveries_id_seq'::regclass) NOT NULL,
    dedupe_key text NOT NULL,
    kind text NOT NULL,
    dag_id text NOT NULL,
    dag_version_id integer NOT NULL,
    callback_list text NOT NULL,
    callback_index integer NOT NULL,
    channel text NOT NULL,
    message jsonb NOT NULL,
    sla_miss_id integer,
    state "DeliveryState" DEFAULT 'pending'::"DeliveryState" NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    last_error text,
    delivered_at timestamp(3) with time zone,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    sla_warning_id integer,
    dag_run_id integer,
    task_instance_id integer,
    resolved_at timestamp(3) with time zone
);
CREATE TABLE public.api_keys (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL,
    role "ApiKeyRole" NOT NULL,
    queues text[] DEFAULT ARRAY[]::text[],
    task_types text[] DEFAULT ARRAY[]::text[],
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    last_used_at timestamp(3) with time zone,
    revoked_at timestamp(3) with time zone
);
CREATE TABLE public.audit_log (
    id bigint DEFAULT nextval('audit_log_id_seq'::regclass) NOT NULL,
    at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    api_key_id uuid,
    actor text,
    action text NOT NULL,
    target text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);
CREATE TABLE public.backfill_runs (
    backfill_id integer NOT NULL,
    sort_ordinal integer NOT NULL,
    logical_date timestamp(3) with time zone NOT NULL,
    dag_run_id integer,
    skip_reason text,
    reprocess boolean DEFAULT false NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL
);
CREATE TABLE public.backfills (
    id integer DEFAULT nextval('backfills_id_seq'::regclass) NOT NULL,
    dag_id text NOT NULL,
    from_date timestamp(3) with time zone NOT NULL,
    to_date timestamp(3) with time zone NOT NULL,
    max_active_runs integer NOT NULL,
    reprocess_behavior "ReprocessBehavior" DEFAULT 'none'::"ReprocessBehavior" NOT NULL,
    run_backwards boolean DEFAULT false NOT NULL,
    conf jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_paused boolean DEFAULT false NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    completed_at timestamp(3) with time zone,
    canceled_at timestamp(3) with time zone,
    clipped_cutoff timestamp(3) with time zone,
    clipped_first_logical_date timestamp(3) with time zone,
    clipped_intervals integer DEFAULT 0 NOT NULL,
    clipped_last_logical_date timestamp(3) with time zone
);
CREATE TABLE public.dag_import_errors (
    fileloc text NOT NULL,
    message text NOT NULL,
    details jsonb,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dag_runs (
    id integer DEFAULT nextval('dag_runs_id_seq'::regclass) NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    dag_version_id integer NOT NULL,
    run_type "RunType" NOT NULL,
    state "RunState" DEFAULT 'queued'::"RunState" NOT NULL,
    logical_date timestamp(3) with time zone NOT NULL,
    data_interval_start timestamp(3) with time zone NOT NULL,
    data_interval_end timestamp(3) with time zone NOT NULL,
    run_after timestamp(3) with time zone NOT NULL,
    conf jsonb DEFAULT '{}'::jsonb NOT NULL,
    backfill_id integer,
    clear_number integer DEFAULT 0 NOT NULL,
    queued_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    start_date timestamp(3) with time zone,
    end_date timestamp(3) with time zone,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dag_versions (
    id integer DEFAULT nextval('dag_versions_id_seq'::regclass) NOT NULL,
    dag_id text NOT NULL,
    version integer NOT NULL,
    content_hash text NOT NULL,
    document jsonb NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dags (
    dag_id text NOT NULL,
    is_paused boolean DEFAULT false NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    source "DagSource" DEFAULT 'api'::"DagSource" NOT NULL,
    fileloc text,
    latest_version integer NOT NULL,
    description text,
    owner text,
    tags text[] DEFAULT ARRAY[]::text[],
    schedule jsonb,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    max_active_runs integer DEFAULT 16 NOT NULL,
    max_active_tasks integer DEFAULT 16 NOT NULL,
    next_dagrun_logical_date timestamp(3) with time zone,
    next_dagrun_create_after timestamp(3) with time zone,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dataset_consumers (
    dag_id text NOT NULL,
    dataset_id integer NOT NULL
);
CREATE TABLE public.dataset_dag_run_queue (
    dataset_id integer NOT NULL,
    target_dag_id text NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dataset_events (
    id integer DEFAULT nextval('dataset_events_id_seq'::regclass) NOT NULL,
    dataset_id integer NOT NULL,
    source_dag_id text,
    source_run_id text,
    source_task_id text,
    source_try_number integer,
    extra jsonb DEFAULT '{}'::jsonb NOT NULL,
    timestamp timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.dataset_producers (
    dag_id text NOT NULL,
    task_id text NOT NULL,
    dataset_id integer NOT NULL
);
CREATE TABLE public.datasets (
    id integer DEFAULT nextval('datasets_id_seq'::regclass) NOT NULL,
    uri text NOT NULL,
    extra jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.event_listeners (
    id text NOT NULL,
    expires_at timestamp(3) with time zone NOT NULL
);
CREATE TABLE public.event_streams (
    stream text NOT NULL,
    seq bigint DEFAULT 0 NOT NULL
);
CREATE TABLE public.events (
    id bigint DEFAULT nextval('events_id_seq'::regclass) NOT NULL,
    kind text NOT NULL,
    dag_id text NOT NULL,
    run_id text,
    payload jsonb NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    seq bigint,
    stream text NOT NULL
);
CREATE TABLE public.leases (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_instance_id integer NOT NULL,
    try_number integer NOT NULL,
    worker_id text NOT NULL,
    api_key_id uuid,
    queue text NOT NULL,
    pool text NOT NULL,
    pool_slots integer NOT NULL,
    acquired_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    heartbeat_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    expires_at timestamp(3) with time zone NOT NULL,
    deadline_at timestamp(3) with time zone,
    cancel_requested boolean DEFAULT false NOT NULL
);
CREATE TABLE public.pools (
    name text NOT NULL,
    slots integer NOT NULL,
    description text,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.sla_misses (
    id integer DEFAULT nextval('sla_misses_id_seq'::regclass) NOT NULL,
    task_instance_id integer NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text NOT NULL,
    logical_date timestamp(3) with time zone NOT NULL,
    deadline timestamp(3) with time zone NOT NULL,
    detected_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.sla_warnings (
    id integer DEFAULT nextval('sla_warnings_id_seq'::regclass) NOT NULL,
    task_instance_id integer NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text NOT NULL,
    try_number integer NOT NULL,
    logical_date timestamp(3) with time zone NOT NULL,
    started_at timestamp(3) with time zone NOT NULL,
    elapsed_sec double precision NOT NULL,
    p95_sec double precision NOT NULL,
    p95_fraction double precision NOT NULL,
    samples integer NOT NULL,
    detected_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.task_instance_tries (
    id integer DEFAULT nextval('task_instance_tries_id_seq'::regclass) NOT NULL,
    task_instance_id integer NOT NULL,
    try_number integer NOT NULL,
    state "TaskState" NOT NULL,
    worker_id text,
    hostname text,
    lease_id uuid,
    completion_hash text,
    start_date timestamp(3) with time zone,
    end_date timestamp(3) with time zone,
    error text,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.task_instances (
    id integer DEFAULT nextval('task_instances_id_seq'::regclass) NOT NULL,
    dag_run_id integer NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text NOT NULL,
    state "TaskState" DEFAULT 'none'::"TaskState" NOT NULL,
    try_number integer DEFAULT 0 NOT NULL,
    max_tries integer DEFAULT 1 NOT NULL,
    task_type text NOT NULL,
    queue text DEFAULT 'default'::text NOT NULL,
    pool text DEFAULT 'default_pool'::text NOT NULL,
    pool_slots integer DEFAULT 1 NOT NULL,
    priority_weight integer DEFAULT 1 NOT NULL,
    logical_date timestamp(3) with time zone NOT NULL,
    scheduled_at timestamp(3) with time zone,
    queued_at timestamp(3) with time zone,
    start_date timestamp(3) with time zone,
    end_date timestamp(3) with time zone,
    next_retry_at timestamp(3) with time zone,
    next_poke_at timestamp(3) with time zone,
    last_error text,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    execution_timeout_sec integer,
    sla_deadline timestamp(3) with time zone,
    expand_values jsonb,
    follow_task_ids jsonb,
    map_index integer DEFAULT '-1'::integer NOT NULL
);
CREATE TABLE public.task_logs (
    id bigint DEFAULT nextval('task_logs_id_seq'::regclass) NOT NULL,
    task_instance_id integer NOT NULL,
    try_number integer NOT NULL,
    line text NOT NULL,
    stream text DEFAULT 'stdout'::text NOT NULL,
    at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.webhook_deliveries (
    id bigint DEFAULT nextval('webhook_deliveries_id_seq'::regclass) NOT NULL,
    webhook_id integer NOT NULL,
    event_id bigint NOT NULL,
    stream text NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    dag_id text NOT NULL,
    run_id text,
    payload jsonb NOT NULL,
    redelivery_of bigint,
    state "DeliveryState" DEFAULT 'pending'::"DeliveryState" NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    last_error text,
    delivered_at timestamp(3) with time zone,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.webhooks (
    id integer DEFAULT nextval('webhooks_id_seq'::regclass) NOT NULL,
    url text NOT NULL,
    event_kinds text[],
    dag_ids text[] DEFAULT ARRAY[]::text[],
    secret text,
    secret_ref text,
    description text,
    enabled boolean DEFAULT true NOT NULL,
    failing_since timestamp(3) with time zone,
    disabled_at timestamp(3) with time zone,
    disabled_reason text,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.workers (
    id text NOT NULL,
    hostname text,
    queues text[] DEFAULT ARRAY[]::text[],
    task_types text[] DEFAULT ARRAY[]::text[],
    capacity integer DEFAULT 1 NOT NULL,
    first_seen timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    last_seen timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE public.xcom (
    id integer DEFAULT nextval('xcom_id_seq'::regclass) NOT NULL,
    task_instance_id integer NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text NOT NULL,
    try_number integer NOT NULL,
    key text NOT NULL,
    value jsonb NOT NULL,
    created_at timestamp(3) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
