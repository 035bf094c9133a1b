"""Offline findings: rules that read an :class:`~workbench.evidence.Evidence` and name what is
wrong, with a concrete fix. They answer when there is no API key, and the architect receives
them as hints.

>>> plan = s.explain("SELECT * FROM orders WHERE user_id = 42", analyze=True)
>>> findings = wb.analyze(s.evidence(plan=plan))
>>> findings[0].code, findings[0].fix
('missing_index', 'CREATE INDEX orders_user_id_idx ON orders (user_id)')

The rules (thresholds follow pgMustard and PEV2 where they have one: misestimates from 10×,
compared per loop; explain.depesz.com's 100× and 1,000× grade their severity):

===============================  ===================================================================
code                             fires when
===============================  ===================================================================
missing_index                    a full scan of ≥ 1,000 rows removes ≥ 90% with a filter on columns
                                 no index starts with; a nested loop re-scans its inner table
                                 (loops > 1) without an index on the join key; an SQLite
                                 AUTOMATIC index
unindexed_foreign_key            a foreign key's columns start no index (table ≥ 1,000 rows)
non_sargable_predicate           a function/cast/arithmetic on a column in a filter that removes
                                 ≥ 50% of ≥ 1,000 rows with the column indexed, or ≥ 90% of a
                                 table of ≥ 10,000 rows (plan filter, else the SQL)
leading_wildcard_like            ``LIKE '%…'`` / ``ILIKE`` / ``~~`` on ≥ 1,000 rows (plan or SQL)
misestimate                      rows off by ≥ 10× with ≥ 100 rows involved (≥ 50 when more
                                 than planned, or feeding a nested loop); reported where it
                                 starts, not on every node it spoils
stale_statistics                 PostgreSQL: never analysed (≥ 1,000 rows), or ≥ 20% of rows
                                 modified since (≥ 10% when a plan misestimates the table)
sort_spill                       a sort went to disk (external merge)
hash_spill                       a hash join or hash aggregate ran in more than one batch
nested_loop_blowup               a nested loop's inner side runs ≥ 1,000 times for ≥ 50% of the
                                 time (≥ 10 ms), unless it is cheap, well-estimated index probes;
                                 or its outer side was underestimated ≥ 10×
filter_waste                     a scan reads ≥ 10,000 rows and its filter removes ≥ 90% (or a
                                 join filter rejects ≥ 90% of ≥ 10,000 pairs), when no more
                                 specific finding covers the node
lossy_bitmap                     a bitmap heap scan has lossy heap blocks
offset_pagination                ``OFFSET`` ≥ 1,000 in the SQL, or a PostgreSQL Limit discarding
                                 ≥ 1,000 rows and ≥ 90% of what it read
n_plus_one                       a captured statement ran ≥ 5 times with different values
select_star_wide_rows            ``SELECT *`` over wide columns (an average of ≥ 100 bytes in the
                                 statistics; without them JSON, binaries, documents: not text
                                 by its type alone) returning ≥ 100 rows, or rows of ≥ 300 bytes
                                 when only a plan is known
high_planning_time               planning ≥ 10 ms and longer than execution
parallel_workers_not_launched    a Gather launched fewer workers than planned
===============================  ===================================================================

Each rule is a function ``(Context) -> Iterable[Finding]``, registered in its family's
``RULES`` (:mod:`workbench.rules`). A rule that raises is skipped and logged: odd input never
stops the others. Each finding carries the time fixing it would save
(``time_saved_ms``, :mod:`~workbench.rules.savings`) and findings come back ranked by it, then
most severe first, one per code and table (or node
group: the partitions under one Append make one finding), at most five per code, and a general
finding yields to a more specific one about the same node (``filter_waste`` to
``missing_index``, ``nested_loop_blowup`` to the inner scan's ``missing_index``).

The package, one module per family:

* :mod:`~workbench.rules.engine`: running the rules, ranking and de-duplicating findings;
* :mod:`~workbench.rules.base`: what every rule shares (the evidence seen through a
  :class:`~workbench.rules.base.Context`, table facts, plan-node helpers);
* :mod:`~workbench.rules.text`: numbers, sizes and DDL names as findings write them;
* :mod:`~workbench.rules.predicates`: conditions and WHERE clauses read into predicates;
* :mod:`~workbench.rules.scans`: what a scan node read, kept and filtered on;
* :mod:`~workbench.rules.rewrites`: exact rewrites of non-sargable predicates;
* :mod:`~workbench.rules.indexes`: missing_index, unindexed_foreign_key;
* :mod:`~workbench.rules.waste`: filter_waste;
* :mod:`~workbench.rules.sargable`: non_sargable_predicate, leading_wildcard_like;
* :mod:`~workbench.rules.estimates`: misestimate, stale_statistics;
* :mod:`~workbench.rules.loops`: nested_loop_blowup;
* :mod:`~workbench.rules.runtime`: sort_spill, hash_spill, lossy_bitmap,
  high_planning_time, parallel_workers_not_launched;
* :mod:`~workbench.rules.pagination`: offset_pagination;
* :mod:`~workbench.rules.savings`: the time a fix would save, which ranks the findings;
* :mod:`~workbench.rules.queries`: n_plus_one, select_star_wide_rows.
"""

from __future__ import annotations

from workbench.rules.engine import MAX_PER_CODE, RULES, Rule, analyze

__all__ = ["MAX_PER_CODE", "RULES", "Rule", "analyze"]
