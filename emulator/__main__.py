"""``python3 -m emulator --port 8070 --seed 42 [--rate-scale 1] [--sales 0] [--scenario whole]``:
serve till Ctrl-C."""

import argparse
import logging
import threading
from datetime import timedelta

from .dataset import default_window
from .generator import generate_dataset
from .scenarios import SCENARIOS
from .server import SpApiEmulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiplies every operation's rate (0: no rate limiting)",
    )
    parser.add_argument(
        "--sales",
        type=int,
        default=0,
        help="sales per marketplace in the data (Shipment transactions, Order report rows)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        help="serve a hand-built story instead of the generated seller (whole: the settlements "
        "of issue 10: sales, ads, reserve, a deferred order, a failed transfer)",
    )
    parser.add_argument(
        "--next-token-seconds",
        type=int,
        default=180,
        help="how long a v0 financial events NextToken stays valid (0: for ever)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    start, end = default_window()
    if args.scenario:
        dataset = SCENARIOS[args.scenario](seed=args.seed)
    else:
        dataset = generate_dataset(
            seed=args.seed, start=start, end=end, sales_per_marketplace=args.sales
        )
    emulator = SpApiEmulator(
        dataset=dataset,
        rate_scale=args.rate_scale,
        host=args.host,
        port=args.port,
        next_token_lifetime=timedelta(seconds=args.next_token_seconds) or None,
    )
    emulator.start()
    # These are the emulator's public test values (the demo account uses them), not secrets.
    print(f"SP-API emulator (seed {args.seed}, rate scale {args.rate_scale:g})", flush=True)
    print(f"  api_url:        {emulator.url}")
    print(f"  lwa_url:        {emulator.lwa_url}")
    print(f"  consent_url:    {emulator.consent_url}")
    print(f"  application_id: {emulator.application_id}")
    print(f"  client_id:      {emulator.client_id}")
    print(f"  client_secret:  {emulator.client_secret}")
    print(f"  seller_id:      {dataset.seller_id}")
    print(f"  refresh_token:  {emulator.refresh_token}")
    print(
        f"  data:           {len(dataset.events)} events in {len(dataset.groups)} groups, "
        f"{dataset.start:%Y-%m-%d %H:%M} .. {dataset.end:%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    print("Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
