"""Command line: python3 -m tcm {build,serve,get,dump,pki} ...

Run from tests/tcm (or with PYTHONPATH=tests/tcm)."""
import argparse
import sys
from pathlib import Path

from . import files, parse, pki, tftpc, tftpd, tree
from .out import say
from .serving import serve_until_signal


def _hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def _config_args(a):
    cfg = {}
    if a.tvs is not None:
        cfg["tvs"] = [_hostport(t) for t in a.tvs]
    if a.cm is not None:
        cfg["call_managers"] = [(h, 5060, 5061) for h in a.cm]
    if a.capf is not None:
        cfg["capf"] = [_hostport(t) for t in a.capf]
    if a.capf_auth_mode is not None:
        cfg["capf_auth_mode"] = a.capf_auth_mode
    if a.load is not None:
        cfg["load_information"] = a.load
    return cfg


def cmd_build(a):
    manifest = tree.build(a.out, mac=a.mac, model=a.model, hash_name=a.hash,
                          encrypt=None if a.encrypt == "none" else a.encrypt,
                          attack=not a.no_attack, keys=a.keys, config=_config_args(a))
    for e in manifest["files"]:
        print("%-40s %-28s %s" % (e["name"], e["expected"], e["path"]))
    return 0


def cmd_pki(a):
    c = pki.generate(a.out, mac=a.mac, model=a.model, host=a.host, fresh=a.fresh)
    for name in pki.NAMES:
        print("%-18s serial %s  %s" % (name, c[name].serial_bytes.hex(), c[name].subject))
    return 0


def _faults(a):
    return tftpd.Faults(loss=a.loss, dup=a.dup, reorder=a.reorder, delay=a.delay,
                        delay_prob=a.delay_prob, error_at=a.error_at,
                        error_code=a.error_code, error_msg=a.error_msg,
                        truncate=a.truncate, stall_after=a.stall_after,
                        ignore_options=a.ignore_options, missing=a.missing or [],
                        only=a.only or [], seed=a.seed, drop_packets=a.drop_packet or [],
                        dup_packets=a.dup_packet or [], delay_packets=a.delay_packet or [],
                        drop_acks=a.drop_ack or [], endless=a.endless)


def cmd_serve(a):
    server = tftpd.TftpServer(a.root, port=a.port, faults=_faults(a),
                              timeout=a.timeout, retries=a.retries,
                              max_blksize=a.max_blksize, log=say if a.verbose else None)
    return serve_until_signal(server, "%s:%d" % (tftpd.BIND_ADDR, server.port))


def cmd_get(a):
    opts = {}
    if a.blksize:
        opts["blksize"] = a.blksize
    if a.tsize:
        opts["tsize"] = 0
    try:
        r = tftpc.get(a.port, a.file, options=opts, timeout=a.timeout)
    except (tftpc.TftpError, tftpc.TftpTimeout) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    Path(a.output or Path(a.file).name).write_bytes(r.data)
    print("%d bytes, %d blocks, oack %s, duplicates %d, retransmits %d"
          % (len(r.data), r.blocks, r.oack, r.duplicates, r.retransmits))
    return 0


def cmd_dump(a):
    status = 0
    for name in a.files:
        try:
            print("== %s\n%s" % (name, parse.describe(parse.parse(Path(name).read_bytes()))))
        except parse.ParseError as e:
            print("== %s\nreject: %s" % (name, e))
            status = 1
    return status


def _parser():
    p = argparse.ArgumentParser(prog="python3 -m tcm", description="test call manager")
    sub = p.add_subparsers(dest="cmd", required=True)

    b = sub.add_parser("build", help="write a TFTP tree (+ keys, attack set) for a phone")
    b.add_argument("--out", required=True)
    b.add_argument("--mac", default=pki.DEFAULT_MAC)
    b.add_argument("--model", default=pki.DEFAULT_MODEL)
    b.add_argument("--keys", help="PKI directory (default OUT/keys; reused if present)")
    b.add_argument("--hash", choices=sorted(files.HASH_IDS), default="sha1")
    b.add_argument("--encrypt", choices=("none", "mic", "lsc"), default="none",
                   help="also write .enc.sgn for this device certificate + partial config")
    b.add_argument("--no-attack", action="store_true", help="skip the attack set")
    b.add_argument("--tvs", nargs="*", metavar="HOST:PORT", help="TVS members (none: no <TVS>)")
    b.add_argument("--cm", nargs="*", metavar="HOST", help="callManagerGroup processNodeNames")
    b.add_argument("--capf", nargs="*", metavar="HOST:PORT")
    b.add_argument("--capf-auth-mode", type=int)
    b.add_argument("--load", help="loadInformation")
    b.set_defaults(func=cmd_build)

    k = sub.add_parser("pki", help="only generate the cluster PKI")
    k.add_argument("--out", required=True)
    k.add_argument("--mac", default=pki.DEFAULT_MAC)
    k.add_argument("--model", default=pki.DEFAULT_MODEL)
    k.add_argument("--host", default=pki.DEFAULT_HOST)
    k.add_argument("--fresh", action="store_true", help="re-issue certificates")
    k.set_defaults(func=cmd_pki)

    s = sub.add_parser("serve", help="TFTP server on 127.0.0.1 with fault injection")
    s.add_argument("--root", required=True)
    s.add_argument("--port", type=int, default=0, help="0: pick a free port")
    s.add_argument("--timeout", type=float, default=1.0, help="retransmit timeout (s)")
    s.add_argument("--retries", type=int, default=5)
    s.add_argument("--max-blksize", type=int, default=65464)
    s.add_argument("--loss", type=float, default=0.0)
    s.add_argument("--dup", type=float, default=0.0)
    s.add_argument("--reorder", type=float, default=0.0)
    s.add_argument("--delay", type=float, default=0.0, help="seconds before each send")
    s.add_argument("--delay-prob", type=float, default=1.0)
    s.add_argument("--error-at", type=int, default=0, help="ERROR instead of DATA block N")
    s.add_argument("--error-code", type=int, default=0)
    s.add_argument("--error-msg", default="injected error")
    s.add_argument("--truncate", type=int, default=-1,
                   help="serve only the first N bytes (transfer ends early)")
    s.add_argument("--stall-after", type=int, default=-1,
                   help="stop sending once N bytes were sent")
    s.add_argument("--ignore-options", action="store_true", help="never send OACK")
    s.add_argument("--endless", action="store_true",
                   help="never end a transfer: full blocks of zeros after the file "
                        "(tsize still announces the file's size)")
    s.add_argument("--missing", action="append", metavar="GLOB",
                   help="answer File not found for these names")
    s.add_argument("--only", action="append", metavar="GLOB",
                   help="apply faults only to these names")
    s.add_argument("--seed", type=int)
    s.add_argument("--drop-packet", type=int, action="append", metavar="N",
                   help="drop the N-th packet of each transfer (1-based, OACK counted)")
    s.add_argument("--dup-packet", type=int, action="append", metavar="N")
    s.add_argument("--delay-packet", type=int, action="append", metavar="N",
                   help="delay only the N-th packet, by --delay seconds")
    s.add_argument("--drop-ack", type=int, action="append", metavar="N",
                   help="ignore the N-th ACK a transfer receives")
    s.add_argument("-v", "--verbose", action="store_true", help="log requests")
    s.set_defaults(func=cmd_serve)

    g = sub.add_parser("get", help="download one file")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--blksize", type=int)
    g.add_argument("--tsize", action="store_true")
    g.add_argument("--timeout", type=float, default=1.0)
    g.add_argument("-o", "--output")
    g.add_argument("file")
    g.set_defaults(func=cmd_get)

    d = sub.add_parser("dump", help="parse and describe .tlv/.sgn/.enc.sgn files")
    d.add_argument("files", nargs="+")
    d.set_defaults(func=cmd_dump)
    return p


def main(argv=None):
    a = _parser().parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
