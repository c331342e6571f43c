-- The 12-month proven reoffending rate by cohort, sex and age band, under the same
-- rules as `reoffending rates --by cohort,sex,age_band` (CONTRACT §1): earliest index
-- event per person, people in two cohorts excluded, exact duplicate offences once,
-- index < offence <= index + 365, disposal <= index + 547, eligible when
-- index + 547 <= extract (the latest usable disposal date).
-- {cohort} and {offences} are replaced by read_parquet(...) or read_csv(...).
WITH c AS (
    SELECT person_id, cohort, index_date, sex, age_at_index,
           row_number() OVER () AS rn
    FROM {cohort}
    WHERE person_id IS NOT NULL AND cohort IS NOT NULL AND index_date IS NOT NULL
),
people AS (
    SELECT person_id,
           min(cohort) AS cohort,
           arg_min(index_date, (index_date, rn)) AS index_date,
           arg_min(sex, (index_date, rn)) AS sex,
           arg_min(age_at_index, (index_date, rn)) AS age
    FROM c
    GROUP BY person_id
    HAVING count(DISTINCT cohort) = 1
),
o AS (
    SELECT DISTINCT person_id, offence_date, disposal_date, offence_type, disposal
    FROM {offences}
    WHERE person_id IS NOT NULL AND offence_date IS NOT NULL
      AND disposal_date IS NOT NULL AND disposal_date >= offence_date
),
ex AS (SELECT max(disposal_date) AS extract_date FROM o),
eligible AS (
    SELECT p.* FROM people p, ex WHERE p.index_date + 547 <= ex.extract_date
),
per AS (
    SELECT e.person_id,
           count(o.person_id) AS n,
           min(o.offence_date - e.index_date) AS first_day
    FROM eligible e
    LEFT JOIN o ON o.person_id = e.person_id
        AND o.offence_date > e.index_date
        AND o.offence_date <= e.index_date + 365
        AND o.disposal_date <= e.index_date + 547
    GROUP BY e.person_id
)
SELECT e.cohort, e.sex,
       CASE WHEN e.age IS NULL THEN NULL
            WHEN e.age < 10 THEN '<10' WHEN e.age <= 17 THEN '10-17'
            WHEN e.age <= 20 THEN '18-20' WHEN e.age <= 24 THEN '21-24'
            WHEN e.age <= 29 THEN '25-29' WHEN e.age <= 39 THEN '30-39'
            WHEN e.age <= 49 THEN '40-49' ELSE '50+' END AS age_band,
       count(*) AS eligible,
       count(*) FILTER (WHERE per.n > 0) AS reoffenders,
       sum(per.n) AS reoffences,
       count(*) FILTER (WHERE per.n > 0) / count(*) AS rate,
       avg(per.first_day) AS mean_days_to_first,
       median(per.first_day) AS median_days_to_first
FROM eligible e JOIN per USING (person_id)
GROUP BY ALL
ORDER BY ALL;
