{#- One block of columns per signal the plant model declares (stg_plant__tags), named
    <signal_column_name(signal)>_<statistic> and sorted by name: no list to maintain, any free-text
    signal (acoustic, Motor Current, s7, ...). Empty at parse time (no warehouse). -#}
{%- set signals = feature_signal_columns(plant_feature_signals()) -%}
{%- set signal_statistics = [
    'mean_1h', 'mean_6h', 'mean_24h', 'stddev_6h', 'stddev_24h', 'slope_24h', 'slope_72h',
    'level_ratio_24h', 'level_zscore_24h', 'peak_ratio_24h', 'peak_excess_6h', 'peak_excess_24h',
] -%}
{%- set horizon_h = var('failure_horizon_hours', 72) -%}
-- depends_on: {{ ref('stg_plant__tags') }}

with

machine_hours as (

    select * from {{ ref('int_machine_hours_enumerated') }}

),

signal_hours as (

    select * from {{ ref('int_machine_signal_hours_combined') }}

),

state_hours as (

    select * from {{ ref('int_machine_states_rolled_hourly') }}

),

work_orders as (

    select * from {{ ref('stg_cmms__work_orders') }}

),

-- One column per declared signal and statistic, named by signal (not tag): machines of one plant
-- share the columns, and a machine without that signal gets nulls.
signals_pivoted as (

    select
        machine_id,
        as_of,
        {%- for signal, name in signals %}
        {%- for statistic in signal_statistics %}
        max({{ statistic }}) filter (where signal = '{{ signal | replace("'", "''") }}') as {{ name }}_{{ statistic }},
        {%- endfor %}
        {%- endfor %}
        sum(sum_of_means_24h) filter (where signal = 'power') as load_kw_24h,
        sum(good_samples_24h) / nullif(sum(samples_received_24h), 0) as good_sample_share_24h,
        least(1, sum(good_samples_24h) / nullif(sum(expected_samples_24h), 0)) as completeness_24h,
    from signal_hours
    group by machine_id, as_of

),

-- Maintenance history as known at as_of: the last work order that had ENDED (preventive or
-- corrective) and the last corrective failure that had STARTED, at or before as_of.
history as (

    select
        machine_hours.machine_id,
        machine_hours.as_of,
        max(work_orders.ended_at) filter (
            where work_orders.work_order_type in ('PREVENTIVE', 'CORRECTIVE')
            and work_orders.ended_at <= machine_hours.as_of
        ) as last_maintenance_end_at,
        max(work_orders.started_at) filter (
            where work_orders.is_corrective and work_orders.started_at <= machine_hours.as_of
        ) as last_failure_start_at,
    from machine_hours
    inner join work_orders
        on work_orders.machine_id = machine_hours.machine_id
        and work_orders.started_at <= machine_hours.as_of
    group by machine_hours.machine_id, machine_hours.as_of

),

-- Labels look FORWARD and are never features: the next corrective failure strictly after as_of
-- (a failure starting in the hour ending at as_of is already in the past for that row), and
-- whether as_of falls inside a corrective repair [start, end) (an open repair lasts to the data end).
future as (

    select
        machine_hours.machine_id,
        machine_hours.as_of,
        min(work_orders.started_at) filter (where work_orders.started_at > machine_hours.as_of)
            as next_failure_start_at,
        arg_min(work_orders.failure_mode, work_orders.started_at) filter (
            where work_orders.started_at > machine_hours.as_of
        ) as next_failure_mode,
        coalesce(bool_or(
            work_orders.started_at <= machine_hours.as_of
            and (work_orders.ended_at is null or machine_hours.as_of < work_orders.ended_at)
        ), false) as in_repair,
    from machine_hours
    inner join work_orders
        on work_orders.machine_id = machine_hours.machine_id
        and work_orders.is_corrective
    group by machine_hours.machine_id, machine_hours.as_of

),

final as (

    select
        machine_hours.site_id,
        machine_hours.line_id,
        machine_hours.machine_id,
        machine_hours.as_of,
        {%- for signal, name in signals %}
        {%- for statistic in signal_statistics %}
        signals_pivoted.{{ name }}_{{ statistic }},
        {%- endfor %}
        {%- endfor %}
        signals_pivoted.load_kw_24h,
        signals_pivoted.good_sample_share_24h,
        signals_pivoted.completeness_24h,
        state_hours.running_hours_24h,
        state_hours.running_share_24h,
        date_diff('microsecond', history.last_maintenance_end_at, machine_hours.as_of) / 3600e6
            as hours_since_maintenance,
        date_diff('microsecond', history.last_failure_start_at, machine_hours.as_of) / 3600e6
            as hours_since_failure,
        coalesce(
            future.next_failure_start_at <= machine_hours.as_of + interval {{ horizon_h }} hours,
            false
        ) as fails_within_{{ horizon_h }}h,
        coalesce(future.next_failure_mode, case when future.next_failure_start_at is not null then 'unknown' end)
            as next_failure_mode,
        date_diff('microsecond', machine_hours.as_of, future.next_failure_start_at) / 3600e6
            as hours_to_next_failure,
        greatest(0, date_diff('microsecond', machine_hours.as_of, machine_hours.last_data_at) / 3600e6)
            as hours_observed_after,
        coalesce(future.in_repair, false) as in_repair,
    from machine_hours
    left join signals_pivoted
        on signals_pivoted.machine_id = machine_hours.machine_id
        and signals_pivoted.as_of = machine_hours.as_of
    left join state_hours
        on state_hours.machine_id = machine_hours.machine_id
        and state_hours.as_of = machine_hours.as_of
    left join history
        on history.machine_id = machine_hours.machine_id
        and history.as_of = machine_hours.as_of
    left join future
        on future.machine_id = machine_hours.machine_id
        and future.as_of = machine_hours.as_of

)

select * from final
