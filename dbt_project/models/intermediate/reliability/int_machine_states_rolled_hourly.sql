with

machine_hours as (

    select * from {{ ref('int_machine_hours_enumerated') }}

),

states as (

    select * from {{ ref('int_machine_states_resolved') }}

),

-- Seconds of each resolved MES state piece inside the hour bucket (as_of − 1 h, as_of]. A piece
-- still running at as_of counts only up to as_of.
state_overlaps as (

    select
        machine_hours.machine_id,
        machine_hours.as_of,
        states.state,
        date_diff('microsecond',
            greatest(states.started_at, machine_hours.as_of - interval 1 hour),
            least(states.ended_at, machine_hours.as_of)
        ) / 1e6 as overlap_s,
    from machine_hours
    inner join states
        on states.machine_id = machine_hours.machine_id
        and states.started_at < machine_hours.as_of
        and states.ended_at > machine_hours.as_of - interval 1 hour

),

hourly as (

    select
        machine_hours.machine_id,
        machine_hours.as_of,
        coalesce(sum(state_overlaps.overlap_s) filter (where state_overlaps.state = 'RUNNING'), 0)
            as running_s,
        coalesce(sum(state_overlaps.overlap_s), 0) as covered_s,
    from machine_hours
    left join state_overlaps
        on state_overlaps.machine_id = machine_hours.machine_id
        and state_overlaps.as_of = machine_hours.as_of
    group by machine_hours.machine_id, machine_hours.as_of

),

rolled as (

    select
        machine_id,
        as_of,
        sum(running_s) over w24 / 3600.0 as running_hours_24h,
        sum(covered_s) over w24 / 3600.0 as mes_covered_hours_24h,
    from hourly
    window w24 as (
        partition by machine_id order by as_of
        range between interval 23 hours preceding and current row
    )

),

-- Without any MES state in the window the running time is unknown, not zero.
final as (

    select
        machine_id,
        as_of,
        case when mes_covered_hours_24h > 0 then running_hours_24h end as running_hours_24h,
        case when mes_covered_hours_24h > 0 then mes_covered_hours_24h end as mes_covered_hours_24h,
        running_hours_24h / nullif(mes_covered_hours_24h, 0) as running_share_24h,
    from rolled

)

select * from final
