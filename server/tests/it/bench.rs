//! `zqsync bench` end to end at a small scale: the migration it measures must finish with every
//! record synced (it fails otherwise), over several pages of each module, in both parts.

use server::bench::{BenchArgs, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_benchmark_migrates_every_record() {
    let args = BenchArgs {
        // 500 accounts, 100 products, 500 invoices: three pages of accounts and of invoices.
        scale: 0.05,
        time_scale: 600.0,
        postgres_url: None,
        repeat: 1,
    };
    run(&args)
        .await
        .expect("the benchmark's migrations sync every record");
}

#[tokio::test]
async fn out_of_range_options_are_refused_with_the_range() {
    let args = BenchArgs {
        scale: 0.01,
        time_scale: 20.0,
        postgres_url: None,
        repeat: 0,
    };
    let error = run(&args).await.expect_err("no runs is not a benchmark");
    assert!(error.to_string().contains("1 to 20"), "{error}");
}
