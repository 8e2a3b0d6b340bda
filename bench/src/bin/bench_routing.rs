//! Routing benchmark: decisions per second (point → community → rule → unit) with 1,000 rules
//! and 500 community polygons from `anju_bench::synthetic`. Prints a table.
//!
//! `cargo run --release -p anju-bench --bin bench_routing`

use std::time::Instant;

use anju_bench::synthetic::synthetic_city;
use anju_server::routing::{AreaIndex, Router};

fn main() {
    let city = synthetic_city(500, 1000, 42);
    let index = match AreaIndex::new(city.areas.clone()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("bench_routing: {e}");
            std::process::exit(1);
        }
    };
    let router = match Router::new(&index, city.rules.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench_routing: {e}");
            std::process::exit(1);
        }
    };
    let queries = city.queries(1_000_000, 7);
    println!(
        "| rules | polygons | decisions | seconds | decisions/s | routed | dispatch center | outside |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for _round in 0..3 {
        let (mut routed, mut unrouted, mut outside) = (0u64, 0u64, 0u64);
        let start = Instant::now();
        for q in &queries {
            match index.locate_deepest(q.lat, q.lon) {
                Some(area) => match router.route(&q.category, area) {
                    Some(d) => {
                        routed += 1;
                        std::hint::black_box(d.unit_id);
                    }
                    None => unrouted += 1,
                },
                None => outside += 1,
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "| {} | 500 | {} | {:.3} | {:.0} | {routed} | {unrouted} | {outside} |",
            city.rules.len(),
            queries.len(),
            secs,
            queries.len() as f64 / secs
        );
    }
}
