with

states as (

    select * from {{ ref('stg_mes__machine_states') }}

),

-- Every start and end of a reported interval is a point where the machine's state may change.
boundaries as (

    select machine_id, started_at as boundary_at from states
    union
    select machine_id, ended_at as boundary_at from states

),

elementary_segments as (

    select
        machine_id,
        boundary_at as segment_start_at,
        lead(boundary_at) over (partition by machine_id order by boundary_at) as segment_end_at,
    from boundaries

),

-- MES intervals of one machine can overlap (a stop reported while the run interval is still open,
-- re-exports with shifted bounds). For every elementary segment the covering interval that started
-- last wins, so each second of machine time is counted exactly once; time no interval covers stays
-- uncovered (unknown), it is never invented.
segment_states as (

    select
        segments.machine_id,
        segments.segment_start_at,
        segments.segment_end_at,
        states.state,
        states.reason_code,
        states.started_at as reported_started_at,
    from elementary_segments as segments
    inner join states
        on states.machine_id = segments.machine_id
        and states.started_at <= segments.segment_start_at
        and states.ended_at >= segments.segment_end_at
    where segments.segment_end_at is not null
    qualify row_number() over (
        partition by segments.machine_id, segments.segment_start_at
        order by states.started_at desc
    ) = 1

),

-- Glue consecutive segments of the same reported interval back together (gaps and islands), so an
-- interval that was only cut by a nested one stays in two pieces, and an untouched one stays whole.
islands as (

    select
        *,
        row_number() over (partition by machine_id order by segment_start_at)
        - row_number() over (
            partition by machine_id, reported_started_at order by segment_start_at
        ) as island_id,
    from segment_states

),

final as (

    select
        machine_id,
        state,
        reason_code,
        min(segment_start_at) as started_at,
        max(segment_end_at) as ended_at,
        reported_started_at,
        date_diff('microsecond', min(segment_start_at), max(segment_end_at)) / 3600e6 as duration_hours,
    from islands
    group by machine_id, state, reason_code, reported_started_at, island_id

)

select * from final
