{%- set baseline_days = var('feature_baseline_days', 7) -%}
{%- set baseline_min_hours = var('feature_baseline_min_hours', 24) -%}
{%- set lookback_hours = baseline_days * 24 + 23 -%}
-- Rolling statistics per tag and hour (as_of = end of the hour). Every window ends at the current
-- row, so a feature only ever sees samples at or before as_of. Built one site-local day per query:
-- the day's hours plus the {{ lookback_hours }} h before them that the longest window (the baseline)
-- reads; a changed hour therefore rebuilds the days up to {{ lookback_hours }} h after it.
{{ config(
    materialized='incremental_by_day',
    day_set='machine_hours',
    hour_column='as_of',
    lookahead_hours=var('feature_baseline_days', 7) * 24 + 23,
) }}
-- depends_on: {{ ref('stg_plant__days') }}

with

machine_hours as (

    select * from {{ ref('int_machine_hours_enumerated') }}
    where {{ build_day_start() }} is null
        or (as_of > {{ build_day_start() }} and as_of <= {{ build_day_end() }})

),

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

hourly_readings as (

    select * from {{ ref('int_sensor_readings_hourly') }}
    where {{ build_day_start() }} is null
        or (
            hour_end_at > {{ build_day_start() }} - interval {{ lookback_hours }} hours
            and hour_end_at <= {{ build_day_end() }}
        )

),

-- Every tag gets every hour of its machine's span, also hours without samples, so that a range
-- window of N hours covers exactly N buckets.
tag_hours as (

    select
        machine_hours.machine_id,
        tags.tag,
        tags.signal,
        tags.period_s,
        machine_hours.as_of,
    from machine_hours
    inner join tags
        on tags.machine_id = machine_hours.machine_id

),

tag_hours_with_readings as (

    select
        tag_hours.*,
        coalesce(hourly_readings.samples_received, 0) as samples_received,
        coalesce(hourly_readings.good_samples, 0) as good_samples,
        hourly_readings.mean_good_value,
        hourly_readings.max_good_value,
        hourly_readings.good_samples * hourly_readings.mean_good_value as sum_good,
        hourly_readings.sum_sq_dev_good
            + hourly_readings.good_samples * hourly_readings.mean_good_value ** 2 as sum_sq_good,
        epoch(tag_hours.as_of) / 3600.0 as as_of_hours,
        false as is_look_back,
    from tag_hours
    left join hourly_readings
        on hourly_readings.tag = tag_hours.tag
        and hourly_readings.hour_end_at = tag_hours.as_of

),

-- The hours before the day that its windows reach back to, when one day is built: only hours
-- with readings, since an hour without any adds nothing to a window (sums, counts, slopes and
-- quantiles skip it). Their rows are read, never written.
look_back as (

    select
        hourly_readings.machine_id,
        hourly_readings.tag,
        hourly_readings.signal,
        hourly_readings.period_s,
        hourly_readings.hour_end_at as as_of,
        hourly_readings.samples_received,
        hourly_readings.good_samples,
        hourly_readings.mean_good_value,
        hourly_readings.max_good_value,
        hourly_readings.good_samples * hourly_readings.mean_good_value as sum_good,
        hourly_readings.sum_sq_dev_good
            + hourly_readings.good_samples * hourly_readings.mean_good_value ** 2 as sum_sq_good,
        epoch(hourly_readings.hour_end_at) / 3600.0 as as_of_hours,
        true as is_look_back,
    from hourly_readings
    where {{ build_day_start() }} is not null
        and hourly_readings.hour_end_at <= {{ build_day_start() }}

),

window_input as (

    select * from tag_hours_with_readings
    union all by name
    select * from look_back

),

-- Sums over the windows; the bucket ending at as_of holds (as_of − 1 h, as_of], so a 6 h window
-- is the current bucket and the 5 before it. The baseline is the {{ baseline_days }} days that end
-- 24 h before as_of: the latest day is compared with the week before it, not with itself.
windowed as (

    select
        machine_id,
        tag,
        signal,
        period_s,
        as_of,
        mean_good_value as mean_1h,
        sum(sum_good) over w6 as sum_good_6h,
        sum(sum_sq_good) over w6 as sum_sq_good_6h,
        sum(good_samples) over w6 as good_samples_6h,
        sum(sum_good) over w24 as sum_good_24h,
        sum(sum_sq_good) over w24 as sum_sq_good_24h,
        sum(good_samples) over w24 as good_samples_24h,
        sum(samples_received) over w24 as samples_received_24h,
        max(mean_good_value) over w24 as hourly_mean_max_24h,
        max(max_good_value) over w6 as max_6h,
        max(max_good_value) over w24 as max_24h,
        regr_slope(mean_good_value, as_of_hours) over w24 as slope_24h,
        regr_slope(mean_good_value, as_of_hours) over w72 as slope_72h,
        count(mean_good_value) over baseline as baseline_hours,
        quantile_cont(mean_good_value, 0.9) over baseline as baseline_hourly_mean_p90,
        stddev_samp(mean_good_value) over baseline as baseline_hourly_mean_stddev,
        quantile_cont(max_good_value, 0.9) over baseline as baseline_hourly_max_p90,
        is_look_back,
    from window_input
    window
        w6 as (partition by tag order by as_of range between interval 5 hours preceding and current row),
        w24 as (partition by tag order by as_of range between interval 23 hours preceding and current row),
        w72 as (partition by tag order by as_of range between interval 71 hours preceding and current row),
        baseline as (
            partition by tag order by as_of
            range between interval {{ baseline_days * 24 + 23 }} hours preceding
            and interval 24 hours preceding
        )

),

statistics as (

    select
        machine_id,
        tag,
        signal,
        as_of,
        mean_1h,
        sum_good_6h / nullif(good_samples_6h, 0) as mean_6h,
        sum_good_24h / nullif(good_samples_24h, 0) as mean_24h,
        case when good_samples_6h > 1 then sqrt(greatest(0,
            (sum_sq_good_6h - sum_good_6h ** 2 / good_samples_6h) / (good_samples_6h - 1)
        )) end as stddev_6h,
        case when good_samples_24h > 1 then sqrt(greatest(0,
            (sum_sq_good_24h - sum_good_24h ** 2 / good_samples_24h) / (good_samples_24h - 1)
        )) end as stddev_24h,
        slope_24h,
        slope_72h,
        hourly_mean_max_24h,
        max_6h,
        max_24h,
        case when baseline_hours >= {{ baseline_min_hours }} then baseline_hourly_mean_p90 end
            as baseline_p90,
        case when baseline_hours >= {{ baseline_min_hours }} then baseline_hourly_mean_stddev end
            as baseline_stddev,
        case when baseline_hours >= {{ baseline_min_hours }} then baseline_hourly_max_p90 end
            as baseline_peak_p90,
        good_samples_24h,
        samples_received_24h,
        24 * 3600 / period_s as expected_samples_24h,
    from windowed
    where not is_look_back

),

final as (

    select
        machine_id,
        tag,
        signal,
        as_of,
        mean_1h,
        mean_6h,
        mean_24h,
        stddev_6h,
        stddev_24h,
        slope_24h,
        slope_72h,
        hourly_mean_max_24h,
        baseline_p90,
        hourly_mean_max_24h / nullif(baseline_p90, 0) as level_ratio_24h,
        (hourly_mean_max_24h - baseline_p90) / nullif(baseline_stddev, 0) as level_zscore_24h,
        max_24h / nullif(baseline_p90, 0) as peak_ratio_24h,
        -- Against the signal's own usual peaks, not its mean level: a spike the machine never
        -- makes when healthy (a tool about to break) stands out whatever the hour's idle share.
        baseline_peak_p90,
        max_6h / nullif(baseline_peak_p90, 0) as peak_excess_6h,
        max_24h / nullif(baseline_peak_p90, 0) as peak_excess_24h,
        good_samples_24h,
        samples_received_24h,
        expected_samples_24h,
    from statistics

)

select * from final
