//! `GET /blocks/tree` with a real fork: two node processes each mine block 1 alone, then
//! are linked. Both keep both blocks: the winner the loser's (from the loser's URL), the
//! loser its own abandoned one (mined here); each height has exactly one best block; the
//! stale block survives a restart. Bad ranges are refused naming their parameter.

mod common;

use common::{client, get_json, post_form, quiet_node, wait_for};
use serde_json::Value;

async fn tip(node: &str) -> String {
    let (code, body) = get_json(&format!("{node}/status")).await;
    assert_eq!(code, 200, "{body}");
    body["tip_hash"].as_str().unwrap().to_owned()
}

async fn mine(node: &str) -> String {
    let response = client().post(format!("{node}/mine")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{node}/mine");
    tip(node).await
}

async fn tree(node: &str, query: &str) -> Value {
    let (code, body) = get_json(&format!("{node}/blocks/tree{query}")).await;
    assert_eq!(code, 200, "{node}/blocks/tree{query}: {body}");
    body
}

/// The blocks of a tree at `number`.
fn at(tree: &Value, number: u64) -> Vec<Value> {
    tree["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["number"] == number)
        .cloned()
        .collect()
}

fn block<'a>(blocks: &'a [Value], hash: &str) -> &'a Value {
    blocks
        .iter()
        .find(|b| b["hash"] == hash)
        .unwrap_or_else(|| panic!("no block {hash} in {blocks:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fork_between_two_nodes_shows_both_blocks_and_one_best() {
    let a = quiet_node().start();
    let b = quiet_node().start();
    let (ua, ub) = (a.url.clone(), b.url.clone());
    let a1 = mine(&ua).await;
    let b1 = mine(&ub).await;
    assert_ne!(a1, b1, "each mined its own block 1");
    // Equal work: the lower hash wins the tie.
    let (winner, loser, won, lost) = if a1 < b1 {
        (&ua, &ub, &a1, &b1)
    } else {
        (&ub, &ua, &b1, &a1)
    };

    let (code, body) = post_form(
        &format!("{winner}/nodes/register"),
        &[("nodes", loser.clone())],
    )
    .await;
    assert_eq!(code, 201, "{body}");
    // The winner asks the loser: its tip loses the tie, so it is kept, and ours offered.
    let (code, body) = get_json(&format!("{winner}/nodes/resolve")).await;
    assert_eq!(code, 200, "{body}");
    wait_for("the loser to take the winner's block", || async {
        (tip(loser).await == *won).then_some(())
    })
    .await;

    let on_winner = wait_for("the winner to keep the loser's block", || async {
        let tree = tree(winner, "").await;
        (at(&tree, 1).len() == 2).then_some(tree)
    })
    .await;
    assert_eq!(on_winner["tip"], *won);
    let one = at(&on_winner, 1);
    assert_eq!(one.iter().filter(|b| b["best"] == true).count(), 1);
    assert_eq!(block(&one, won)["best"], true);
    assert_eq!(block(&one, won)["from"], "mined");
    let stale = block(&one, lost);
    assert_eq!(stale["best"], false);
    assert_eq!(
        stale["from"],
        loser.as_str(),
        "the loser's block came from it"
    );
    assert_eq!(stale["transactions"], 1, "its reward");
    assert!(stale["first_seen"].as_u64().unwrap() > 1_700_000_000_000);
    let genesis = at(&on_winner, 0);
    assert_eq!(genesis.len(), 1);
    assert_eq!(genesis[0]["best"], true);
    assert_eq!(stale["previous_hash"], genesis[0]["hash"]);
    assert_eq!(stale["work"], "256", "difficulty 8");
    let peers = on_winner["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0]["url"], loser.as_str());
    assert_eq!(peers[0]["reachable"], true);

    // The loser keeps its own block, abandoned, as mined here; the best one came from the
    // winner.
    let on_loser = wait_for("the loser to show both", || async {
        let tree = tree(loser, "").await;
        (at(&tree, 1).len() == 2).then_some(tree)
    })
    .await;
    let one = at(&on_loser, 1);
    assert_eq!(block(&one, lost)["best"], false);
    assert_eq!(block(&one, lost)["from"], "mined");
    assert_eq!(block(&one, won)["best"], true);
    assert_eq!(block(&one, won)["from"], winner.as_str());

    // Stale blocks are on disk: a restart keeps them.
    let winner_node = if *winner == ua { a } else { b };
    let restarted = winner_node.restart(&["--sync-interval".into(), "0".into()]);
    let again = tree(&restarted.url, "?from=0&to=1").await;
    let one = at(&again, 1);
    assert_eq!(one.len(), 2);
    assert_eq!(block(&one, lost)["from"], loser.as_str());
    assert_eq!(block(&one, won)["best"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_ranges_are_refused_naming_the_parameter() {
    let node = quiet_node().start();
    let n = &node.url;
    mine(n).await;
    let only = tree(n, "").await;
    assert_eq!(
        only["blocks"].as_array().unwrap().len(),
        2,
        "genesis and block 1"
    );
    assert!(
        tree(n, "?from=7").await["blocks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tree(n, "?from=0&to=499").await["blocks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for (query, names) in [
        ("?from=abc", "from"),
        ("?to=-1", "to"),
        ("?from=5&to=4", "to"),
        ("?from=0&to=500", "to"),
        ("?from=0&to=18446744073709551615", "to"),
    ] {
        let (code, body) = get_json(&format!("{n}/blocks/tree{query}")).await;
        assert_eq!(code, 400, "{query}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(names), "{query}: {error} names {names}");
    }
}
