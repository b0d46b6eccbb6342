with

hourly_readings as (

    select * from {{ ref('int_sensor_readings_hourly') }}

),

states as (

    select * from {{ ref('int_machine_states_resolved') }}

),

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

historian_spans as (

    select
        machine_id,
        min(hour_end_at) as first_hour_end_at,
        max(hour_end_at) as last_hour_end_at,
        max(last_measured_at) as last_data_at,
    from hourly_readings
    group by machine_id

),

-- A state interval [start, end) touches the hour buckets (start, start + 1 h] ... (end − 1 h, end].
mes_spans as (

    select
        machine_id,
        min(date_trunc('hour', started_at) + interval 1 hour) as first_hour_end_at,
        max(date_trunc('hour', ended_at - interval 1 microsecond) + interval 1 hour) as last_hour_end_at,
        max(ended_at) as last_data_at,
    from states
    group by machine_id

),

machine_spans as (

    select
        machine_id,
        min(first_hour_end_at) as first_hour_end_at,
        max(last_hour_end_at) as last_hour_end_at,
        max(last_data_at) as last_data_at,
    from (
        select * from historian_spans
        union all
        select * from mes_spans
    )
    group by machine_id

),

hours as (

    select
        machine_id,
        unnest(generate_series(first_hour_end_at, last_hour_end_at, interval 1 hour)) as as_of,
        last_data_at,
    from machine_spans

),

final as (

    select
        machines.site_id,
        machines.line_id,
        hours.machine_id,
        hours.as_of,
        hours.last_data_at,
    from hours
    inner join machines
        on machines.machine_id = hours.machine_id

)

select * from final
