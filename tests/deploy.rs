//! Deployment: the Kubernetes manifests validate offline against the
//! Kubernetes schemas, their word lists load, and `--watch` follows a
//! ConfigMap volume's update, which the kubelet makes by writing the new
//! files into a fresh hidden directory and swapping the `..data` symlink
//! in one rename (the visible names are symlinks that never change).
//! The Dockerfile's steps run in `deploy/container-steps.sh` (CI).

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use contentfilter_tests::{run, run_checked, temp_dir, venv_python, workspace, ServerProcess};
use filter_server::proto::ScanRequest;

#[test]
fn kubernetes_manifests_validate_and_their_lists_load() {
    let out = temp_dir("configmap-lists");
    run_checked(
        Command::new(venv_python())
            .arg(workspace().join("tests/python/k8s_check.py"))
            .arg(workspace().join("deploy/kubernetes/base"))
            .arg(&out),
        "tests/python/k8s_check.py",
    );
    let check = run(&["check-wordlists", out.to_str().unwrap()], b"");
    assert_eq!(check.status.code(), Some(0), "{check:?}");
}

/// One version of a ConfigMap volume: `..VERSION/` holding the files.
fn write_version(dir: &Path, version: &str, fraud: &str) {
    let data = dir.join(version);
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("lists.toml"), "[defaults]\naction = \"block\"\n").unwrap();
    std::fs::write(data.join("fraud.txt"), fraud).unwrap();
}

/// Points `..data` at `version` the kubelet's way: a new symlink renamed
/// over the old one.
fn swap_data(dir: &Path, version: &str) {
    let tmp = dir.join("..data_tmp");
    symlink(version, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_configmap_symlink_swap() {
    let dir = temp_dir("configmap-volume");
    write_version(&dir, "..2026_11_28_00_00_00.0001", "代开发票\n");
    swap_data(&dir, "..2026_11_28_00_00_00.0001");
    for name in ["lists.toml", "fraud.txt"] {
        symlink(format!("..data/{name}"), dir.join(name)).unwrap();
    }
    let server = ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), "--watch"]);
    let mut client = server.client().await;
    let count = async |client: &mut filter_server::proto::content_filter_service_client::ContentFilterServiceClient<_>,
                       text: &str| {
        let request = ScanRequest {
            text: text.to_string(),
            ..Default::default()
        };
        client.scan(request).await.unwrap().into_inner().findings.len()
    };
    assert_eq!(count(&mut client, "代开发票").await, 1);
    assert_eq!(count(&mut client, "配置映射新词").await, 0);

    // The update: same file names, same sizes would not matter either.
    write_version(
        &dir,
        "..2026_11_28_00_01_00.0002",
        "代开发票\n配置映射新词\n",
    );
    swap_data(&dir, "..2026_11_28_00_01_00.0002");
    std::fs::remove_dir_all(dir.join("..2026_11_28_00_00_00.0001")).unwrap();

    // The directory is polled every 2 s: wait up to 15 s, asking often.
    let mut reloaded = false;
    for _ in 0..150 {
        if count(&mut client, "配置映射新词").await == 1 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "the swap was not reloaded:\n{}", server.logs());
    assert_eq!(
        count(&mut client, "代开发票").await,
        1,
        "the old words stay"
    );
}
