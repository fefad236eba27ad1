"""``imbalance-gym envs`` and ``imbalance-gym datasets``: what exists and what is present."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    envs = sub.add_parser("envs", help="list the registered environment ids")
    envs.set_defaults(handler=run_envs)
    data = sub.add_parser("datasets", help="list the dataset catalog and what is in the data home")
    data.add_argument("--data-home", default=None, help="data folder (default: $IMBALANCE_GYM_DATA "
                      "or ~/.cache/imbalance_gym)")
    data.add_argument("--kind", choices=("tabular", "image", "text"), default=None,
                      help="only this kind of dataset")
    data.add_argument("--present", action="store_true", help="only datasets whose files are present")
    data.set_defaults(handler=run_datasets)


def run_envs(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import imbalance_gym

    for env_id in imbalance_gym.ENV_IDS:
        spec = gym.spec(env_id)
        print(f"{env_id:34s} {spec.entry_point}")
    return 0


def run_datasets(args: argparse.Namespace) -> int:
    from imbalance_gym.datasets import dataset_spec, get_data_home, list_datasets

    home = get_data_home(args.data_home)
    present = set(list_datasets(args.kind, present=True, data_home=home))
    names = list_datasets(args.kind, data_home=home)
    if args.present:
        names = [n for n in names if n in present]
    print(f"data home: {home}")
    print(f"{'name':22s} {'kind':8s} {'present':8s} origin")
    for name in names:
        spec = dataset_spec(name)
        print(f"{name:22s} {spec.kind:8s} {'yes' if name in present else 'no':8s} {spec.origin}")
    return 0
