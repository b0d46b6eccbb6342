{#- Which site-local days an incremental_by_day model holds, and which of them changed.

    The lake is the change log: every loaded batch is one immutable Parquet file per source
    (lake/<source>/<batch_id>.parquet), and its footer statistics give the time span of its rows
    without reading them. Each model records the files it has applied (build_log.applied_files);
    the files added since, and those gone since (a batch removed by an operator), are the changes,
    and the days their spans touch are rebuilt. So a build of some models never makes the others
    miss a change, a late file for an old day rebuilds exactly that day (and the look-ahead of the
    rolling windows), and `dbt build` by hand behaves as Dagster's runs do: nothing has to be passed.

    day_set:
      historian_samples  days whose [day_start_at, day_end_at) holds a sample of a changed file
      historian_hours    days whose hour buckets (day_start_at, day_end_at] hold one: a sample stamped
                         exactly on local midnight ends the previous day's last hour
      machine_hours      the hours of the machines' spans (historian and MES states); a changed hour
                         reaches the rolling windows of the `lookahead_hours` after it (config)
      days_with_data     the KPI dates (int_days_with_data); changed like historian_samples

    The plant's reference data (tags, calendar) and the feature vars shape every day's rows: when
    their fingerprint changes, the model rebuilds every day. -#}

{% macro twin_lake_glob(source) -%}
    {{- var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/' ~ source ~ '/*.parquet' -}}
{%- endmacro %}


{#- One row per bronze file of `source` with the time span of its rows, from the Parquet statistics
    of its time columns (no row is read). Files without rows (_empty.parquet) have no span. -#}
{% macro twin_lake_file_spans(source, first_column, last_column) -%}
    select
        '{{ source }}/' || parse_filename(file_name) as file_name,
        min(try_cast(stats_min_value as timestamp)) filter (where path_in_schema = '{{ first_column }}') as first_ts,
        max(try_cast(stats_max_value as timestamp)) filter (where path_in_schema = '{{ last_column }}') as last_ts,
    from parquet_metadata('{{ twin_lake_glob(source) }}')
    where path_in_schema in ('{{ first_column }}', '{{ last_column }}')
    group by file_name
    having min(try_cast(stats_min_value as timestamp)) filter (where path_in_schema = '{{ first_column }}') is not null
{%- endmacro %}


{#- The bronze files whose rows a day_set's days derive from. -#}
{% macro twin_day_set_files(kind) -%}
    {{ twin_lake_file_spans('historian', 'ts', 'ts') }}
    {%- if kind == 'machine_hours' %}
    union all
    {{ twin_lake_file_spans('mes_states', 'start_ts', 'end_ts') }}
    {%- endif %}
{%- endmacro %}


{% macro twin_ceil_hour(expression) -%}
    (date_trunc('hour', {{ expression }} - interval 1 microsecond) + interval 1 hour)
{%- endmacro %}


{#- Days of `days` touched by the spans (a select with first_ts, last_ts) under the day_set's rule,
    with the part of each day touched: (window_start, window_end] of hour ends for the hour-bucketed
    day sets, the whole day otherwise. A new day's first sample, on local midnight, ends the last
    hour of the day before: that day's window is then one hour, not the day. -#}
{% macro twin_days_touched(kind, spans_sql, days_relation, lookahead_hours) -%}
    select
        cast(days.date as varchar) as date,
    {%- if kind in ('historian_samples', 'days_with_data') %}
        cast(days.day_start_at as varchar) as window_start,
        cast(days.day_end_at as varchar) as window_end,
    from ({{ spans_sql }}) as spans
    inner join {{ days_relation }} as days
        on days.day_start_at <= spans.last_ts and days.day_end_at > spans.first_ts
    {%- else %}
        cast(greatest(days.day_start_at, min({{ twin_ceil_hour('spans.first_ts') }}) - interval 1 hour) as varchar) as window_start,
        cast(least(days.day_end_at, max({{ twin_ceil_hour('spans.last_ts') }}) + interval {{ lookahead_hours }} hours) as varchar) as window_end,
    from ({{ spans_sql }}) as spans
    inner join {{ days_relation }} as days
        on days.day_start_at < {{ twin_ceil_hour('spans.last_ts') }} + interval {{ lookahead_hours }} hours
        and days.day_end_at >= {{ twin_ceil_hour('spans.first_ts') }}
    {%- endif %}
    group by days.date, days.day_start_at, days.day_end_at
{%- endmacro %}


{#- {valid: [dates the model holds], changed: [dates to rebuild], windows: {date: the part of it
     changed}, relation: the calendar,
     files_sql: the files applied once the model is built, has_applied: whether it ever recorded
     any, same_reference: whether the plant reference data is the one its days were built with}. -#}
{% macro twin_day_set(kind, model) -%}
    {%- set days_relation = ref('stg_plant__days') -%}
    {%- set lookahead_hours = config.get('lookahead_hours', 0) if kind == 'machine_hours' else 0 -%}
    {%- if kind in ('historian_samples', 'historian_hours') -%}
        {%- set valid_sql = 'select date from (' ~ twin_days_touched(kind, twin_day_set_files(kind), days_relation, 0) ~ ')' -%}
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

    {#- A snapshot of the lake's files, taken before any day is built: a file that lands during the
        build is not recorded as applied, so the next build picks it up. -#}
    {%- set snapshot = 'twin_files_' ~ this.identifier -%}
    {%- do run_query('create or replace temp table ' ~ snapshot ~ ' as ' ~ twin_day_set_files(kind)) -%}
    {%- set files_sql = 'select * from ' ~ snapshot -%}
    {%- set applied_sql -%}
        select file_name, first_ts, last_ts from build_log.applied_files
        where model_name = '{{ this.identifier }}'
    {%- endset -%}
    {#- Added and removed files alike: both change the days their rows lie in. -#}
    {%- set changed_spans -%}
        (select * from ({{ files_sql }}) except select * from ({{ applied_sql }}))
        union all
        (select * from ({{ applied_sql }}) except select * from ({{ files_sql }}))
    {%- endset -%}
    {%- set changed_rows = run_query(
        twin_days_touched(kind, changed_spans, days_relation, lookahead_hours) ~ ' order by 1'
    ).rows -%}
    {%- set changed = changed_rows | map(attribute=0) | list -%}
    {%- set windows = {} -%}
    {%- for row in changed_rows -%}
        {%- do windows.update({row[0]: {'date': row[0], 'start': row[1], 'end': row[2]}}) -%}
    {%- endfor -%}
    {%- set has_applied = run_query(
        "select count(*) from build_log.model_builds where model_name = '" ~ this.identifier ~ "'"
    ).columns[0].values()[0] > 0 -%}
    {%- set recorded = run_query(
        "select reference from build_log.model_builds where model_name = '" ~ this.identifier ~ "'"
    ).columns[0].values() | list -%}
    {%- set reference = twin_reference_fingerprint() -%}
    {{- return({'valid': valid, 'changed': changed, 'windows': windows, 'relation': days_relation,
                'files_sql': files_sql, 'has_applied': has_applied,
                'reference': reference, 'same_reference': recorded == [reference]}) -}}
{%- endmacro %}


{#- A fingerprint of what shapes every day's rows besides the lake: the plant's tags and calendar
    (its reference tables) and the feature vars. -#}
{% macro twin_reference_fingerprint() -%}
    {%- set sql -%}
        select md5(
            coalesce((select string_agg(tags::varchar, '|' order by tag) from {{ ref('stg_plant__tags') }} as tags), '')
            || '#' || coalesce((select string_agg(days::varchar, '|' order by date) from {{ ref('stg_plant__days') }} as days), '')
            || '#{{ var('feature_baseline_days', 7) }}/{{ var('feature_baseline_min_hours', 24) }}'
        )
    {%- endset -%}
    {{- return(run_query(sql).columns[0].values()[0]) -}}
{%- endmacro %}


{#- on-run-start (dbt_project.yml): once per invocation, not from models building in parallel
    (two threads creating the schema conflict). -#}
{% macro twin_ensure_build_log() -%}
    create schema if not exists build_log;
    create table if not exists build_log.model_builds (model_name varchar primary key, reference varchar, built_at timestamp);
    create table if not exists build_log.applied_files (model_name varchar, file_name varchar, first_ts timestamp, last_ts timestamp);
    create table if not exists build_log.day_builds (model_name varchar, day date, invocation_id varchar, built_at timestamp, window_start timestamp, window_end timestamp);
{%- endmacro %}


{#- The model now holds every file of `files_sql` (read before its days were built: a file that
    landed meanwhile is applied by the next build). -#}
{% macro twin_record_applied(relation, files_sql, reference) -%}
    {%- do run_query(
        "delete from build_log.applied_files where model_name = '" ~ relation.identifier ~ "';"
        ~ " insert into build_log.applied_files select '" ~ relation.identifier ~ "', * from ("
        ~ files_sql ~ ");"
        ~ " insert or replace into build_log.model_builds values ('" ~ relation.identifier ~ "', '"
        ~ reference ~ "', current_timestamp::timestamp)") -%}
{%- endmacro %}
