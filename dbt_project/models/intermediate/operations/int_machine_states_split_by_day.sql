with

states as (

    select * from {{ ref('int_machine_states_resolved') }}

),

days as (

    select * from {{ ref('stg_plant__days') }}

),

-- Cut every (non-overlapping) state interval at site-local midnights. The day bounds come in UTC
-- from the plant calendar, so a DST day is 23 or 25 hours long and an interval crossing midnight
-- is shared between the two dates by plain interval overlap.
split as (

    select
        states.machine_id,
        days.date,
        states.state,
        states.reason_code,
        greatest(states.started_at, days.day_start_at) as started_at,
        least(states.ended_at, days.day_end_at) as ended_at,
    from states
    inner join days
        on states.started_at < days.day_end_at
        and states.ended_at > days.day_start_at

),

final as (

    select
        *,
        date_diff('microsecond', started_at, ended_at) / 3600e6 as duration_hours,
    from split

)

select * from final
