with

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

days as (

    select * from {{ ref('int_days_with_data') }}

),

-- Every machine gets a row for every date with any data, so a machine whose MES feed is missing
-- still shows up (with its reliability and data completeness) instead of silently disappearing.
spine as (

    select
        machines.site_id,
        machines.line_id,
        machines.machine_id,
        machines.flow_position,
        days.date,
        days.day_start_at,
        days.day_end_at,
        days.day_hours,
    from machines
    cross join days

),

final as (

    select * from spine

)

select * from final
