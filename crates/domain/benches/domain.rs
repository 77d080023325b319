//! Micro-benchmarks of the domain's hot paths: working-day arithmetic, lights, the daily-check
//! classification and lifecycle transitions. Run: `cargo bench -p taizhang-domain`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::ToSpan;
use jiff::civil::date;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::daily_check::{CheckRules, MatterFacts, classify};
use taizhang_domain::lifecycle::{MatterStatus, Transition, allowed, apply};
use taizhang_domain::light::{LightRules, days_left, light};

fn calendar(c: &mut Criterion) {
    let cal = WorkCalendar::official();
    let start = date(2026, 2, 12);
    c.bench_function("add_workdays 20 across Spring Festival", |b| {
        b.iter(|| cal.add_workdays(black_box(start), black_box(20)))
    });
    c.bench_function("workdays_between a year apart", |b| {
        b.iter(|| cal.workdays_between(black_box(date(2025, 3, 1)), black_box(date(2026, 3, 1))))
    });
}

fn lights(c: &mut Criterion) {
    let cal = WorkCalendar::official();
    let rules = LightRules::default();
    let today = date(2026, 3, 16);
    let deadlines: Vec<_> = (0..50).map(|i| today + (i * 3 - 60).days()).collect();
    c.bench_function("light + days_left for a page of 50 matters", |b| {
        b.iter(|| {
            let mut n = 0i64;
            for d in &deadlines {
                let l = light(
                    &cal,
                    &rules,
                    MatterStatus::InProgress,
                    today,
                    Some(*d),
                    Some(date(2026, 1, 5)),
                    Some(40),
                );
                n += days_left(&cal, today, *d) + l as i64;
            }
            black_box(n)
        })
    });
}

fn daily(c: &mut Criterion) {
    let cal = WorkCalendar::official();
    let rules = CheckRules::default();
    let today = date(2026, 3, 16);
    let facts: Vec<MatterFacts> = (0..1000)
        .map(|i| MatterFacts {
            status: if i % 7 == 0 {
                MatterStatus::Assigned
            } else {
                MatterStatus::InProgress
            },
            deadline: (i % 10 != 0).then(|| today + ((i % 120) - 40).days()),
            assigned_on: Some(date(2026, 1, 5) + (i % 60).days()),
            last_update_on: Some(date(2026, 2, 1) + (i % 40).days()),
            last_report_due_missed: i % 13 == 0,
        })
        .collect();
    c.bench_function("daily-check classify 1,000 matters", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &facts {
                n += classify(&cal, &rules, today, f).len();
            }
            black_box(n)
        })
    });
}

fn lifecycle(c: &mut Criterion) {
    c.bench_function("apply every transition from every state", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for s in MatterStatus::ALL {
                for t in Transition::ALL {
                    ok += usize::from(apply(black_box(s), black_box(t)).is_ok());
                }
            }
            black_box(ok)
        })
    });
    c.bench_function("allowed transitions of every state", |b| {
        b.iter(|| {
            MatterStatus::ALL
                .iter()
                .map(|s| allowed(*s).len())
                .sum::<usize>()
        })
    });
}

criterion_group!(benches, calendar, lights, daily, lifecycle);
criterion_main!(benches);
