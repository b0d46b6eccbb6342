with

tag_hours as (

    select * from {{ ref('int_tag_hours_rolled') }}

),

-- A machine can carry several tags of one signal (two bearings, two motors). Absolute levels,
-- spreads and slopes are averaged over those tags; the relative features take the WORST tag
-- (largest ratio, largest z-score): one bearing running hot must not be averaged away by a healthy one.
combined as (

    select
        machine_id,
        signal,
        as_of,
        count(*) as tag_count,
        avg(mean_1h) as mean_1h,
        avg(mean_6h) as mean_6h,
        avg(mean_24h) as mean_24h,
        sum(mean_24h) as sum_of_means_24h,
        avg(stddev_6h) as stddev_6h,
        avg(stddev_24h) as stddev_24h,
        avg(slope_24h) as slope_24h,
        avg(slope_72h) as slope_72h,
        max(level_ratio_24h) as level_ratio_24h,
        max(level_zscore_24h) as level_zscore_24h,
        max(peak_ratio_24h) as peak_ratio_24h,
        max(peak_excess_6h) as peak_excess_6h,
        max(peak_excess_24h) as peak_excess_24h,
        sum(good_samples_24h) as good_samples_24h,
        sum(samples_received_24h) as samples_received_24h,
        sum(expected_samples_24h) as expected_samples_24h,
    from tag_hours
    group by machine_id, signal, as_of

),

final as (

    select * from combined

)

select * from final
