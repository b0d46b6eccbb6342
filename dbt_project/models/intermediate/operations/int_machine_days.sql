with

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

days as (

    select * from {{ ref('int_days_with_data') }}

),

-- A machine may declare no tags (a station without sensors, DESIGN §3.2): its KPIs come from MES
-- data and its data completeness is not applicable (stated on the KPI row, not a 0).
machine_tags as (

    select machine_id, count(*) as tag_count
    from tags
    group by machine_id

),

-- Every machine gets a row for every date with any data, so a machine whose MES feed is missing
-- still shows up (with its reliability and data completeness) instead of silently disappearing.
spine as (

    select
        machines.site_id,
        machines.line_id,
        machines.machine_id,
        machines.flow_position,
        coalesce(machine_tags.tag_count, 0) > 0 as has_tags,
        days.date,
        days.day_start_at,
        days.day_end_at,
        days.day_hours,
    from machines
    left join machine_tags
        on machine_tags.machine_id = machines.machine_id
    cross join days

),

final as (

    select * from spine

)

select * from final
