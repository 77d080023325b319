//! The 11710 ledger tables: matters, their units, milestones, timeline and reports.
