with

counts as (

    select * from {{ ref('stg_mes__production_counts') }}

),

days as (

    select * from {{ ref('stg_plant__days') }}

),

cycle_times as (

    select * from {{ ref('stg_plant__cycle_times') }}

),

-- A counting interval that crosses site-local midnight is shared between the two dates in
-- proportion to its overlap with each day (quantities become fractional on such days, totals over
-- days are exact).
split as (

    select
        counts.machine_id,
        days.date,
        counts.product_id,
        counts.work_order_id,
        counts.started_at as count_started_at,
        date_diff('microsecond',
            greatest(counts.started_at, days.day_start_at),
            least(counts.ended_at, days.day_end_at)
        ) / date_diff('microsecond', counts.started_at, counts.ended_at) as day_share,
        counts.good_qty,
        counts.scrap_qty,
    from counts
    inner join days
        on counts.started_at < days.day_end_at
        and counts.ended_at > days.day_start_at

),

with_cycle_times as (

    select
        split.machine_id,
        split.date,
        split.product_id,
        split.work_order_id,
        split.count_started_at,
        split.day_share,
        split.good_qty * split.day_share as good_qty,
        split.scrap_qty * split.day_share as scrap_qty,
        (split.good_qty + split.scrap_qty) * split.day_share as produced_qty,
        cycle_times.ideal_cycle_time_s,
    from split
    left join cycle_times
        on cycle_times.machine_id = split.machine_id
        and cycle_times.product_id = split.product_id

),

final as (

    select
        *,
        -- ISO 22400 PRI × PQ: the hours the parts would have taken at the ideal cycle time.
        produced_qty * ideal_cycle_time_s / 3600 as ideal_run_hours,
    from with_cycle_times

)

select * from final
