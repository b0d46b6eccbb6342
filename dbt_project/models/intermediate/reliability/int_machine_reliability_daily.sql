{%- set window_days = var('reliability_window_days') -%}

with

machine_days as (

    select * from {{ ref('int_machine_days') }}

),

days as (

    select * from {{ ref('stg_plant__days') }}

),

work_orders as (

    select * from {{ ref('stg_cmms__work_orders') }}

),

failures as (

    select * from work_orders
    where is_corrective

),

first_date_with_data as (

    select min(date) as first_date from machine_days

),

-- The trailing window is the {{ window_days }} site-local days ending with (and including) the KPI
-- date, but never reaches back before the first date with any data: the CMMS history before it is
-- unknown and would inflate MTBF.
windows as (

    select
        machine_days.machine_id,
        machine_days.date,
        window_first_day.day_start_at as window_start_at,
        machine_days.day_end_at as window_end_at,
    from machine_days
    cross join first_date_with_data
    inner join days as window_first_day
        on window_first_day.date = greatest(
            cast(machine_days.date - {{ window_days - 1 }} as date),
            first_date_with_data.first_date
        )

),

-- Corrective work orders touching the window. Counted as failures when they start in it; their
-- repair time (clipped to the window, open repairs up to the window end) is downtime. Only what was
-- known by the end of the KPI date is used: a repair that closed later is still open on that date.
failures_in_window as (

    select
        windows.machine_id,
        windows.date,
        count(*) filter (where failures.started_at >= windows.window_start_at) as failure_count,
        coalesce(sum(
            date_diff('microsecond',
                greatest(failures.started_at, windows.window_start_at),
                least(coalesce(failures.ended_at, windows.window_end_at), windows.window_end_at)
            ) / 3600e6
        ), 0) as repair_downtime_hours,
        count(*) filter (
            where failures.started_at >= windows.window_start_at
            and failures.ended_at <= windows.window_end_at
        ) as closed_repair_count,
        coalesce(sum(failures.repair_hours) filter (
            where failures.started_at >= windows.window_start_at
            and failures.ended_at <= windows.window_end_at
        ), 0) as closed_repair_hours,
    from windows
    inner join failures
        on failures.machine_id = windows.machine_id
        and failures.started_at < windows.window_end_at
        and coalesce(failures.ended_at, windows.window_end_at) > windows.window_start_at
    group by windows.machine_id, windows.date

),

final as (

    select
        windows.machine_id,
        windows.date,
        windows.window_start_at,
        windows.window_end_at,
        date_diff('microsecond', windows.window_start_at, windows.window_end_at) / 3600e6 as window_hours,
        coalesce(failures_in_window.failure_count, 0) as failure_count,
        coalesce(failures_in_window.repair_downtime_hours, 0) as repair_downtime_hours,
        coalesce(failures_in_window.closed_repair_count, 0) as closed_repair_count,
        coalesce(failures_in_window.closed_repair_hours, 0) as closed_repair_hours,
    from windows
    left join failures_in_window
        on failures_in_window.machine_id = windows.machine_id
        and failures_in_window.date = windows.date

)

select * from final
