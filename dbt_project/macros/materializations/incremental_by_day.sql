{#- incremental_by_day: a table built one site-local day at a time (delete + insert per day).

    Why not dbt's microbatch (dbt-duckdb 1.11 has it): its batches are UTC days of ONE contiguous
    window per invocation, shared by every model of the run. The twin's days are site-local (a
    Berlin day spans two UTC days), a late file for an old day needs that day in the daily
    aggregates but that day and the 8 after it in the rolling features, and a late day plus a new
    day are two windows. Here every model derives its own set of days (macros/incremental_days.sql)
    and runs one query per day, so memory is bounded by one day whatever the history.

    Config:
      day_set     which days the model holds and which a change touches (see twin_day_set)
      day_column  a DATE column holding the row's site-local day, or
      hour_column a TIMESTAMP column (an hour END, UTC): a row is in day D when it lies in
                  (day_start_at, day_end_at]
    The model reads the day being built through build_day() / build_day_start() / build_day_end()
    (DuckDB variables: null outside this materialization, so unit tests and `dbt show` see all days).

    Days built = (days the changed ranges touch ∪ days not built yet) ∩ days with data; days no longer
    with data are deleted. A full refresh, the first build or a change of columns rebuilds every
    day into a new table that replaces the old one at the end. Each day is committed on its own. -#}
{% materialization incremental_by_day, adapter='duckdb' -%}
    {%- set day_set = config.require('day_set') -%}
    {%- set day_column = config.get('day_column') -%}
    {%- set hour_column = config.get('hour_column') -%}
    {%- if (day_column is none) == (hour_column is none) -%}
        {{ exceptions.raise_compiler_error(
            this ~ ": incremental_by_day needs exactly one of day_column or hour_column") }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set days = twin_day_set(day_set, model) -%}
    {#- Without its applied files the model cannot know which of its days late files changed. -#}
    {%- set rebuild_all = should_full_refresh() or existing_relation is none
        or existing_relation.is_view or not days.has_applied or not days.same_reference
        or not twin_same_columns(existing_relation, compiled_code) -%}
    {%- if rebuild_all -%}
        {%- set build_relation = make_intermediate_relation(target_relation) -%}
        {{ drop_relation_if_exists(load_cached_relation(build_relation)) }}
        {%- set to_build = days.valid -%}
        {%- set to_delete = [] -%}
    {%- else -%}
        {%- set build_relation = target_relation -%}
        {%- set built = twin_days_in_relation(target_relation, day_column, hour_column, days.relation) -%}
        {%- set to_build = [] -%}
        {%- for day in days.valid if day in days.changed or day not in built -%}
            {%- do to_build.append(day) -%}
        {%- endfor -%}
        {%- set to_delete = [] -%}
        {%- for day in built if day not in days.valid -%}
            {%- do to_delete.append(day) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set bounds = twin_day_bounds(days.relation, to_build + to_delete) -%}

    {%- if rebuild_all -%}
        {#- The schema from an impossible day: every filter on it is empty, so nothing is scanned. -#}
        {%- do twin_set_build_day(none) -%}
        {%- do run_query('create table ' ~ build_relation ~ ' as select * from (' ~ compiled_code ~ ') as model') -%}
    {%- endif -%}
    {%- for day in to_delete -%}
        {%- do run_query('delete from ' ~ build_relation ~ ' where ' ~ twin_day_predicate(day_column, hour_column, bounds[day])) -%}
    {%- endfor -%}
    {%- for day in to_build -%}
        {#- An hour-bucketed day already built is rebuilt only over the hours that changed. -#}
        {%- set partial = hour_column and not rebuild_all and day in built and day in days.windows -%}
        {%- set bound = days.windows[day] if partial else bounds[day] -%}
        {%- do twin_set_build_day(bound) -%}
        {%- if not rebuild_all -%}
            {%- do run_query('delete from ' ~ build_relation ~ ' where ' ~ twin_day_predicate(day_column, hour_column, bound)) -%}
        {%- endif -%}
        {%- do run_query('insert into ' ~ build_relation ~ ' by name select * from (' ~ compiled_code ~ ') as model') -%}
        {%- do twin_log_day_build(this, bound) -%}
        {%- do adapter.commit() -%}
    {%- endfor -%}
    {%- do twin_set_build_day(none) -%}
    {{ log(this ~ ': built ' ~ (to_build | length) ~ ' day(s) ' ~ (to_build | join(', '))
        ~ (', deleted ' ~ (to_delete | join(', ')) if to_delete else ''), info=true) }}

    {%- if rebuild_all and existing_relation is not none -%}
        {%- set backup_relation = make_backup_relation(target_relation, existing_relation.type) -%}
        {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
        {%- do adapter.rename_relation(existing_relation, backup_relation) -%}
        {%- do adapter.rename_relation(build_relation, target_relation) -%}
    {%- elif rebuild_all -%}
        {%- do adapter.rename_relation(build_relation, target_relation) -%}
    {%- endif -%}

    {%- do twin_record_applied(this, days.files_sql, days.reference) -%}
    {% call statement('main') -%}
        select {{ to_build | length }} as days_built
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- if rebuild_all and existing_relation is not none -%}
        {%- do adapter.drop_relation(backup_relation) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}


{#- Same column names in the same order: otherwise (a new plant signal, an edited model) the table
    is rebuilt, never half old and half new. -#}
{% macro twin_same_columns(relation, sql) -%}
    {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- do twin_set_build_day(none) -%}
    {%- set described = run_query('describe select * from (' ~ sql ~ ') as model') -%}
    {%- set wanted = described.columns[0].values() | map('lower') | list -%}
    {{- return(existing == wanted) -}}
{%- endmacro %}


{#- The day being built, for the model's filters; all null outside incremental_by_day. -#}
{% macro build_day() -%} cast(getvariable('twin_build_day') as date) {%- endmacro %}
{% macro build_day_start() -%} cast(getvariable('twin_build_day_start_at') as timestamp) {%- endmacro %}
{% macro build_day_end() -%} cast(getvariable('twin_build_day_end_at') as timestamp) {%- endmacro %}


{% macro twin_set_build_day(bound) -%}
    {%- if bound is none -%}
        {#- An impossible day (ends before it starts): filters on it match nothing. Unset (null)
            would mean "every day" to the models. -#}
        {%- do run_query("set variable twin_build_day = date '0001-01-01'") -%}
        {%- do run_query("set variable twin_build_day_start_at = timestamp '0001-01-02 00:00:00'") -%}
        {%- do run_query("set variable twin_build_day_end_at = timestamp '0001-01-01 00:00:00'") -%}
    {%- else -%}
        {%- do run_query("set variable twin_build_day = date '" ~ bound.date ~ "'") -%}
        {%- do run_query("set variable twin_build_day_start_at = timestamp '" ~ bound.start ~ "'") -%}
        {%- do run_query("set variable twin_build_day_end_at = timestamp '" ~ bound.end ~ "'") -%}
    {%- endif -%}
{%- endmacro %}


{% macro twin_day_predicate(day_column, hour_column, bound) -%}
    {%- if day_column -%}
        {{ adapter.quote(day_column) }} = date '{{ bound.date }}'
    {%- else -%}
        {{ adapter.quote(hour_column) }} > timestamp '{{ bound.start }}'
        and {{ adapter.quote(hour_column) }} <= timestamp '{{ bound.end }}'
    {%- endif -%}
{%- endmacro %}


{#- {date string: {date, start, end}} for the given days, from the plant calendar. -#}
{% macro twin_day_bounds(days_relation, days) -%}
    {%- set bounds = {} -%}
    {%- if days -%}
        {%- set rows = run_query(
            'select cast(date as varchar), cast(day_start_at as varchar), cast(day_end_at as varchar) from '
            ~ days_relation ~ " where cast(date as varchar) in ('" ~ (days | join("', '")) ~ "')") -%}
        {%- for row in rows.rows -%}
            {%- do bounds.update({row[0]: {'date': row[0], 'start': row[1], 'end': row[2]}}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(bounds) -}}
{%- endmacro %}


{#- The site-local days the relation holds rows for (date strings). -#}
{% macro twin_days_in_relation(relation, day_column, hour_column, days_relation) -%}
    {%- if day_column -%}
        {%- set sql = 'select distinct cast(' ~ adapter.quote(day_column) ~ ' as varchar) from ' ~ relation -%}
    {%- else -%}
        {%- set sql -%}
            with hours as (select distinct {{ adapter.quote(hour_column) }} as hour_at from {{ relation }})
            select distinct cast(days.date as varchar)
            from hours
            inner join {{ days_relation }} as days
                on hours.hour_at > days.day_start_at and hours.hour_at <= days.day_end_at
        {%- endset -%}
    {%- endif -%}
    {{- return(run_query(sql).columns[0].values() | list) -}}
{%- endmacro %}


{#- One row per day built, with the part of it built, so a run can be audited (and tested) for
    exactly which days and hours it rebuilt. -#}
{% macro twin_log_day_build(relation, bound) -%}
    {%- do run_query(
        "insert into build_log.day_builds values ('" ~ relation.identifier ~ "', date '" ~ bound.date
        ~ "', '" ~ invocation_id ~ "', current_timestamp::timestamp, timestamp '" ~ bound.start
        ~ "', timestamp '" ~ bound.end ~ "')") -%}
{%- endmacro %}
