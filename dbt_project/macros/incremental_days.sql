{#- Which site-local days an incremental_by_day model holds, and which of them changed.

    The var `historian_changes` lists the historian batches loaded since the last build, as
    [loaded_at, first_ts, last_ts] (UTC; Dagster passes it, orchestration/lib/dbt_increment.py). A
    model applies only the batches loaded after its own watermark (build_log.watermarks), so a build
    of a subset of the models never makes the others miss a change.

    day_set:
      historian_samples  days whose [day_start_at, day_end_at) holds a sample of a batch
      historian_hours    days whose hour buckets (day_start_at, day_end_at] hold one: a sample stamped
                         exactly on local midnight ends the previous day's last hour
      machine_hours      the hours of the machines' spans; a changed hour reaches the rolling windows
                         of the `lookahead_hours` after it (config; the longest look-back)
      days_with_data     the KPI dates (int_days_with_data); changed like historian_samples -#}

{% macro twin_historian_glob() -%}
    {{- var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/historian/*.parquet' -}}
{%- endmacro %}


{#- One row per bronze historian file with the time span of its samples, from the Parquet
    statistics (no sample is read). -#}
{% macro twin_historian_file_spans() -%}
    select
        file_name,
        min(try_cast(stats_min_value as timestamp)) as first_ts,
        max(try_cast(stats_max_value as timestamp)) as last_ts,
    from parquet_metadata('{{ twin_historian_glob() }}')
    where path_in_schema = 'ts'
    group by file_name
    having min(try_cast(stats_min_value as timestamp)) is not null
{%- endmacro %}


{% macro twin_ceil_hour(expression) -%}
    (date_trunc('hour', {{ expression }} - interval 1 microsecond) + interval 1 hour)
{%- endmacro %}


{#- Days of `days` touched by the spans (a select with first_ts, last_ts) under the day_set's rule. -#}
{% macro twin_days_touched(kind, spans_sql, days_relation, lookahead_hours) -%}
    select distinct cast(days.date as varchar) as date
    from ({{ spans_sql }}) as spans
    inner join {{ days_relation }} as days
    {%- if kind in ('historian_samples', 'days_with_data') %}
        on days.day_start_at <= spans.last_ts and days.day_end_at > spans.first_ts
    {%- else %}
        on days.day_start_at < {{ twin_ceil_hour('spans.last_ts') }} + interval {{ lookahead_hours }} hours
        and days.day_end_at >= {{ twin_ceil_hour('spans.first_ts') }}
    {%- endif %}
{%- endmacro %}


{#- {valid: [dates the model holds], changed: [dates to rebuild], relation: the calendar,
     watermark: the latest loaded_at applied}. -#}
{% macro twin_day_set(kind, model) -%}
    {%- set days_relation = ref('stg_plant__days') -%}
    {%- set lookahead_hours = config.get('lookahead_hours', 0) if kind == 'machine_hours' else 0 -%}
    {%- if kind in ('historian_samples', 'historian_hours') -%}
        {%- set valid_sql = twin_days_touched(kind, twin_historian_file_spans(), days_relation, 0) -%}
    {%- elif kind == 'machine_hours' -%}
        {%- set valid_sql -%}
            select distinct cast(days.date as varchar) as date
            from (select distinct as_of from {{ ref('int_machine_hours_enumerated') }}) as hours
            inner join {{ days_relation }} as days
                on hours.as_of > days.day_start_at and hours.as_of <= days.day_end_at
        {%- endset -%}
    {%- elif kind == 'days_with_data' -%}
        {%- set valid_sql = 'select distinct cast(date as varchar) as date from ' ~ ref('int_days_with_data') -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(this ~ ": unknown day_set '" ~ kind ~ "'") }}
    {%- endif -%}
    {%- set valid = run_query(valid_sql ~ ' order by 1').columns[0].values() | list -%}

    {%- set watermark = twin_watermark(this) -%}
    {%- set spans = [] -%}
    {%- set ns = namespace(latest=watermark) -%}
    {%- for loaded_at, first_ts, last_ts in var('historian_changes', []) -%}
        {%- if watermark is none or loaded_at > watermark -%}
            {%- do spans.append("select timestamp '" ~ first_ts ~ "' as first_ts, timestamp '" ~ last_ts ~ "' as last_ts") -%}
        {%- endif -%}
        {%- if ns.latest is none or loaded_at > ns.latest -%}
            {%- set ns.latest = loaded_at -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set changed = [] -%}
    {%- if spans -%}
        {%- set changed = run_query(
            twin_days_touched(kind, spans | join(' union all '), days_relation, lookahead_hours)
        ).columns[0].values() | list -%}
    {%- endif -%}
    {{- return({'valid': valid, 'changed': changed, 'relation': days_relation,
                'watermark': ns.latest, 'has_watermark': watermark is not none}) -}}
{%- endmacro %}


{#- on-run-start (dbt_project.yml): once per invocation, not from models building in parallel
    (two threads creating the schema conflict). -#}
{% macro twin_ensure_build_log() -%}
    create schema if not exists build_log;
    create table if not exists build_log.watermarks (model_name varchar primary key, loaded_through varchar);
    create table if not exists build_log.day_builds (model_name varchar, day date, invocation_id varchar, built_at timestamp);
{%- endmacro %}


{#- The latest historian loaded_at this model has applied; none when it never recorded one. -#}
{% macro twin_watermark(relation) -%}
    {%- set rows = run_query(
        "select loaded_through from build_log.watermarks where model_name = '" ~ relation.identifier ~ "'") -%}
    {{- return(rows.rows[0][0] if rows.rows else none) -}}
{%- endmacro %}


{% macro twin_record_watermark(relation, loaded_through) -%}
    {%- do run_query(
        "insert or replace into build_log.watermarks values ('" ~ relation.identifier ~ "', "
        ~ ("'" ~ loaded_through ~ "'" if loaded_through else "''") ~ ")") -%}
{%- endmacro %}
