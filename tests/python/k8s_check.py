"""Validates deploy/kubernetes/base offline, as tests/deploy.rs asks.

Usage: k8s_check.py BASE_DIR OUT_DIR

- kustomization.yaml lists every other YAML file of the directory, and
  only those;
- every resource validates, strictly (no unknown field), against the
  Kubernetes schemas bundled with kubernetes-validate, for the oldest and
  the newest version the manifests claim to support;
- the word-list ConfigMap's files are written to OUT_DIR, for
  `filter-server check-wordlists`.
Exits non-zero with a message on the first failure.
"""

import os
import sys

import kubernetes_validate
import yaml

VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def main() -> None:
    base, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(base, "kustomization.yaml"), encoding="utf-8") as f:
        kustomization = yaml.safe_load(f)
    listed = sorted(kustomization["resources"])
    present = sorted(
        n for n in os.listdir(base) if n.endswith(".yaml") and n != "kustomization.yaml"
    )
    assert listed == present, f"kustomization.yaml lists {listed}, the directory holds {present}"
    kinds = set()
    for name in listed:
        with open(os.path.join(base, name), encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        assert docs, f"{name}: no resource"
        for doc in docs:
            kinds.add(doc["kind"])
            for version in VERSIONS:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as e:
                    sys.exit(f"{name} ({doc['kind']}) against {version}: {e.message} at {list(e.path)}")
            if doc["kind"] == "ConfigMap":
                os.makedirs(out, exist_ok=True)
                for key, value in doc["data"].items():
                    with open(os.path.join(out, key), "w", encoding="utf-8") as g:
                        g.write(value)
    want = {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert want <= kinds, f"missing kinds: {want - kinds}"
    print(f"k8s_check: {len(listed)} files valid against {VERSIONS}")


if __name__ == "__main__":
    main()
