"""The offline rules, one module per family; :mod:`workbench.rules` is the public entry point.

* :mod:`~workbench.rules_.base`: what every rule shares (the evidence seen through a
  :class:`~workbench.rules_.base.Context`, table facts, plan-node helpers);
* :mod:`~workbench.rules_.text`: numbers, sizes and DDL names as findings write them;
* :mod:`~workbench.rules_.predicates`: conditions and WHERE clauses read into predicates;
* :mod:`~workbench.rules_.scans`: what a scan node read, kept and filtered on;
* :mod:`~workbench.rules_.rewrites`: exact rewrites of non-sargable predicates;
* :mod:`~workbench.rules_.indexes`: missing_index, filter_waste, unindexed_foreign_key;
* :mod:`~workbench.rules_.sargable`: non_sargable_predicate, leading_wildcard_like;
* :mod:`~workbench.rules_.estimates`: misestimate, stale_statistics;
* :mod:`~workbench.rules_.loops`: nested_loop_blowup;
* :mod:`~workbench.rules_.runtime`: sort_spill, hash_spill, lossy_bitmap,
  high_planning_time, parallel_workers_not_launched;
* :mod:`~workbench.rules_.pagination`: offset_pagination;
* :mod:`~workbench.rules_.queries`: n_plus_one, select_star_wide_rows.
"""
