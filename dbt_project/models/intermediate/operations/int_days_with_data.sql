with

state_days as (

    select distinct date from {{ ref('int_machine_states_split_by_day') }}

),

production_days as (

    select distinct date from {{ ref('int_production_counts_split_by_day') }}

),

historian_days as (

    select distinct date from {{ ref('int_sensor_readings_aggregated_to_day') }}

),

work_orders as (

    select * from {{ ref('stg_cmms__work_orders') }}

),

days as (

    select * from {{ ref('stg_plant__days') }}

),

work_order_days as (

    select distinct days.date
    from work_orders
    inner join days
        on work_orders.started_at >= days.day_start_at
        and work_orders.started_at < days.day_end_at

),

-- A site-local date gets KPI rows when any source delivered anything for it: the MES, the
-- historian or the CMMS. Dates with no data at all get no rows (rather than rows of nulls).
dates_with_data as (

    select date from state_days
    union
    select date from production_days
    union
    select date from historian_days
    union
    select date from work_order_days

),

final as (

    select
        days.date,
        days.day_start_at,
        days.day_end_at,
        days.day_hours,
        days.is_holiday,
    from dates_with_data
    inner join days
        on days.date = dates_with_data.date

)

select * from final
