{#- Signal-named feature columns (fct_machine_hourly_features).

    A plant's `signal` is free text (DESIGN §3.2): the feature mart pivots whatever signals the plant
    model declares, one block of columns per signal, named by signal_column_name(signal). -#}

{#- A safe column-name stem for a free-text signal: lower case, every run of characters outside
    [a-z0-9] becomes one `_`, leading / trailing `_` dropped, and a leading digit prefixed with
    `signal_`. `s7` → s7, `Motor Current` → motor_current, `2nd bearing` → signal_2nd_bearing. -#}
{% macro signal_column_name(signal) -%}
    {%- set name = modules.re.sub('[^a-z0-9]+', '_', (signal | string | lower)).strip('_') -%}
    {%- if not name -%}
        {{ exceptions.raise_compiler_error(
            "signal '" ~ signal ~ "' has no letter or digit to name its feature columns after") }}
    {%- endif -%}
    {%- if modules.re.match('[0-9]', name) -%}
        {%- set name = 'signal_' ~ name -%}
    {%- endif -%}
    {{- return(name) -}}
{%- endmacro %}

{#- The distinct signals of the plant's tags (stg_plant__tags, already lower case), sorted. Empty at
    parse time (`execute` false: no warehouse). A model calling this must also declare
    `-- depends_on: {{ ref('stg_plant__tags') }}` so dbt builds the tags first. Unit tests override
    this macro with a fixed list (overrides: macros: plant_feature_signals: [...]). -#}
{% macro plant_feature_signals() -%}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set tags = ref('stg_plant__tags') -%}
    {%- if load_relation(tags) is none -%}
        {{ exceptions.raise_compiler_error(
            "the feature columns come from the plant's tags, but " ~ tags ~ " is not built yet: "
            ~ "build it first (dbt build --select +fct_machine_hourly_features)") }}
    {%- endif -%}
    {%- set rows = run_query(
        'select distinct signal from ' ~ tags ~ ' where signal is not null order by signal') -%}
    {{- return(rows.columns[0].values() | list) -}}
{%- endmacro %}

{#- [(signal, column stem)] sorted by column stem; a compiler error when two signals map to the same
    stem (their columns would collide), naming both. -#}
{% macro feature_signal_columns(signals) -%}
    {%- set by_name = {} -%}
    {%- for signal in signals -%}
        {%- set name = signal_column_name(signal) -%}
        {%- if name in by_name -%}
            {{ exceptions.raise_compiler_error(
                "signals '" ~ by_name[name] ~ "' and '" ~ signal ~ "' both give the feature column name '"
                ~ name ~ "': rename one of them in the plant model (the tags' signal)") }}
        {%- endif -%}
        {%- do by_name.update({name: signal}) -%}
    {%- endfor -%}
    {%- set pairs = [] -%}
    {%- for name in by_name.keys() | sort -%}
        {%- do pairs.append((by_name[name], name)) -%}
    {%- endfor -%}
    {{- return(pairs) -}}
{%- endmacro %}
