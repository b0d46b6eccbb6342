with

work_orders as (

    select * from {{ ref('stg_cmms__work_orders') }}

),

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

days as (

    select * from {{ ref('stg_plant__days') }}

),

failures as (

    select * from work_orders
    where is_corrective

),

final as (

    select
        failures.work_order_id,
        machines.site_id,
        machines.line_id,
        failures.machine_id,
        coalesce(failures.failure_mode, 'unknown') as failure_mode,
        days.date as failure_date,
        failures.reported_at,
        failures.started_at,
        failures.ended_at,
        {{ round_kpi('failures.repair_hours') }} as repair_hours,
        failures.is_open,
    from failures
    inner join machines
        on machines.machine_id = failures.machine_id
    left join days
        on failures.started_at >= days.day_start_at
        and failures.started_at < days.day_end_at

)

select * from final
