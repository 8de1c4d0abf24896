"""The `claimcheck` command line. stdout carries only results (text or JSON);
logs, progress and errors for people go to stderr.

Prefect is never imported here at module level: `import prefect` costs ~1 s and
its embedded server 6-13 s, which quick commands must not pay.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .config import Config, load_config, with_overrides
from .errors import ClaimcheckError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="claimcheck: pre-score proof-of-purchase for promotion and cashback claims.")
promotions_app = typer.Typer(no_args_is_help=True, help="The promotions' terms files.")
app.add_typer(promotions_app, name="promotions")

PromotionsOpt = Annotated[Optional[Path], typer.Option("--promotions", help="Folder of terms files.")]
StoreOpt = Annotated[Optional[str], typer.Option(
    "--db", "--store", help="Claim store (every decision run is kept there): sqlite:///path.sqlite3, a path, "
    "or postgresql://user@host/db. --store is the old name.")]


NoPrefectOpt = Annotated[bool, typer.Option(
    "--no-prefect", help="Plain Python (a process pool), without Prefect: no server, no flow run records.")]
RunnerOpt = Annotated[str, typer.Option(
    "--runner", help="Prefect task runner: local (threads handing claims to a process pool) or dask.")]
DaskAddressOpt = Annotated[Optional[str], typer.Option(
    "--dask-address", help="With --runner dask: the scheduler to use (tcp://host:8786) instead of a LocalCluster.")]


PrefectOpt = Annotated[bool, typer.Option(
    "--prefect", help="Run the Prefect flow even when no Prefect server is configured (PREFECT_API_URL): starts "
    "Prefect's embedded server, 6-13 s.")]


def _without_prefect(no_prefect: bool, prefect: bool, runner: str, dask_address: Optional[str]) -> bool:
    """Run the plain path? With no Prefect server configured the flow would start Prefect's embedded
    server (6-13 s) only to record runs nobody looks at: the same code runs without it, unless --prefect."""
    from .prefect_server import configured_api_url

    if no_prefect:
        return True
    if prefect or runner != "local" or dask_address or configured_api_url():
        return False
    typer.echo("note: no Prefect server configured (PREFECT_API_URL): running without Prefect, no flow run "
               "records (--prefect starts Prefect's embedded server)", err=True)
    return True


def _check_runner(no_prefect: bool, runner: str, dask_address: Optional[str]) -> None:
    if runner not in ("local", "dask"):
        typer.echo("error: --runner must be local or dask", err=True)
        raise typer.Exit(2)
    if dask_address and runner != "dask":
        typer.echo("error: --dask-address needs --runner dask", err=True)
        raise typer.Exit(2)
    if no_prefect and (runner != "local" or dask_address):
        typer.echo("error: --runner/--dask-address run Prefect flows; drop --no-prefect", err=True)
        raise typer.Exit(2)


def _config(path: Optional[Path]) -> Config:
    try:
        return load_config(path)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def _emit(obj: dict, indent: int | None = None) -> None:
    from .batch import json_text

    sys.stdout.write(json_text(obj, indent=indent) + "\n")
    sys.stdout.flush()


@app.command()
def ocr(
    files: Annotated[list[Path], typer.Argument(help="Images or PDFs to read.")],
    lang: Annotated[Optional[str], typer.Option("--lang", help="Tesseract languages, e.g. 'fra+eng'.")] = None,
    country: Annotated[Optional[str], typer.Option(help="Pick languages for this country (ISO alpha-2).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Words, lines, boxes and confidences per page.")] = False,
    no_preprocess: Annotated[bool, typer.Option("--no-preprocess", help="OCR the page as uploaded.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
    engine: Annotated[str, typer.Option(help="tesseract, ppocr, or cascade (each engine of [cascade] in turn; "
                                             "a PDF text layer is read once).")] = "tesseract",
) -> None:
    """Read the text of documents (PDF text layer where usable, otherwise OCR)."""
    from .read import read_document

    if engine not in ("tesseract", "ppocr", "cascade"):
        typer.echo(f"error: --engine must be tesseract, ppocr or cascade, not {engine!r}", err=True)
        raise typer.Exit(2)
    cfg = _config(config)
    if no_preprocess:
        cfg = cfg.model_copy(update={"preprocess": cfg.preprocess.model_copy(update={"enabled": False})})
    languages = lang.split("+") if lang else cfg.languages_for(country)
    engines = list(cfg.cascade.engines) if engine == "cascade" else [engine]
    failed = 0
    for f in files:
        for name in engines:
            one = cfg.model_copy(update={"ocr": cfg.ocr.model_copy(update={"engine": name})})
            try:
                doc = read_document(f, str(f), languages=languages, config=one)
            except ClaimcheckError as exc:
                failed += 1
                if as_json:
                    _emit({"file": str(f), "engine": name, "error": exc.to_dict()})
                typer.echo(f"error: {f}: {name}: {exc.message}", err=True)
                continue
            if as_json:
                _emit({"file": str(f), "engine": name, **doc.to_dict()})
            else:
                if len(files) > 1 or len(engines) > 1:
                    sys.stdout.write(f"==> {f} ({name}) <==\n")
                sys.stdout.write(doc.text + "\n")
            if all(p.source != "ocr" for p in doc.pages):
                break  # a text layer: the next engine would read the same layer
    if failed:
        raise typer.Exit(1)


@app.command()
def barcodes(
    files: Annotated[list[Path], typer.Argument(help="Serial-sticker photos (or any image/PDF).")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
) -> None:
    """Decode barcodes: one JSON object per line per file; unreadable files get an error object."""
    from .read import read_document

    cfg = _config(config)
    for f in files:
        try:
            doc = read_document(f, str(f), config=cfg, barcodes=True, ocr=False)
        except ClaimcheckError as exc:
            _emit({"file": str(f), "barcodes": [], "error": exc.to_dict()})
            continue
        found = []
        for b in doc.barcodes:
            d = b.to_dict()
            if len(doc.pages) == 1:
                d.pop("page")
            found.append(d)
        _emit({"file": str(f), "barcodes": found})


@app.command()
def verify(
    claim: Annotated[Path, typer.Argument(help="A claim folder or its claim.json.")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Indent the JSON.")] = False,
    promotions: PromotionsOpt = None,
    store: StoreOpt = None,
) -> None:
    """Verify one claim and print its decision as JSON (stdout carries only the JSON)."""
    from .verify import verify_claim

    cfg = with_overrides(_config(config), promotions_dir=promotions, store_url=store)
    _emit(verify_claim(claim, cfg).to_dict(), indent=2 if pretty else None)  # a decision, whatever the claim holds


@app.command()
def batch(
    root: Annotated[Path, typer.Argument(help="A folder of claim folders (any depth).")],
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file of decisions (appended to).")],
    workers: Annotated[Optional[int], typer.Option(help="Parallel processes (default: one per core).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo claims already in --out.")] = False,
    promotions: PromotionsOpt = None,
    store: StoreOpt = None,
    no_prefect: NoPrefectOpt = False,
    runner: RunnerOpt = "local",
    dask_address: DaskAddressOpt = None,
    prefect: PrefectOpt = False,
) -> None:
    """Verify every claim.json below ROOT; resumable: claims already in --out are skipped.
    Runs the Prefect flow process_backlog (one task per claim) when a Prefect server is configured
    (or with --prefect), else the same claims' code without Prefect."""
    _config(config)  # fail fast, before any worker starts
    if not root.exists():
        typer.echo(f"error: {root} does not exist", err=True)
        raise typer.Exit(2)
    _check_runner(no_prefect, runner, dask_address)
    no_prefect = _without_prefect(no_prefect, prefect, runner, dask_address)
    promotions_dir = str(promotions) if promotions else None
    from .batch import locked_out

    try:
        with locked_out(out):  # refused at once, before any worker or Prefect starts
            if no_prefect:
                from .batch import run_batch

                summary = run_batch(root, out, workers=workers, config_path=config, force=force,
                                    promotions_dir=promotions_dir, store_url=store).to_dict()
            else:
                from flows import process_backlog

                summary = process_backlog(str(root), str(out), workers=workers, runner=runner,
                                          dask_address=dask_address, config_path=str(config) if config else None,
                                          force=force, promotions_dir=promotions_dir, store_url=store,
                                          progress=True)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps({"batch": summary, "out": str(out)}), err=True)


@app.command()
def probe() -> None:
    """What engines are installed (Tesseract and its languages, PP-OCR and its model files, barcode and
    PDF libraries)."""
    from .ocr import barcodes as barcode_engine
    from .ocr import pdf as pdf_engine
    from .ocr import ppocr, tesseract

    _emit({"tesseract": tesseract.probe(), "ppocr": ppocr.probe(), "barcodes": barcode_engine.probe(),
           "pdf": pdf_engine.probe()})


@promotions_app.command("list")
def promotions_list(
    promotions: PromotionsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """The promotions loaded from the terms folder."""
    from .promotions import list_promotions, list_promotions_text

    try:
        if as_json:
            _emit({"promotions": list_promotions(promotions)})
        else:
            sys.stdout.write(list_promotions_text(promotions))
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@promotions_app.command("show")
def promotions_show(
    promotion_id: Annotated[str, typer.Argument(help="The promotion's id, e.g. amd-msi-cashback-2020.")],
    promotions: PromotionsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
) -> None:
    """Everything one terms file says, as loaded and validated."""
    from .promotions import show_promotion, show_promotion_text

    try:
        if as_json:
            _emit(show_promotion(promotion_id, promotions))
        else:
            sys.stdout.write(show_promotion_text(promotion_id, promotions))
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


catalogue_app = typer.Typer(no_args_is_help=True, help="The product catalogue: model families and siblings.")
app.add_typer(catalogue_app, name="catalogue")
CatalogueOpt = Annotated[Optional[Path], typer.Option(
    "--file", help="Catalogue TOML file (default: pipeline/data/catalogue.toml, the one match_model uses).")]


@catalogue_app.command("grow")
def catalogue_grow(
    promotions: PromotionsOpt = None,
    file: CatalogueOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be added; write nothing.")] = False,
) -> None:
    """Add the models the terms files list as eligible and the catalogue lacks ([[grown]] tables
    appended to the file, each model in the family it looks most like, else a new one)."""
    from .matching.catalogue import grow_file
    from .promotions import load_promotions

    try:
        grown, text = grow_file(file, load_promotions(promotions).values(), write=not dry_run)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    for g in grown:
        where = "new family" if g.new_family else "family"
        typer.echo(f"{g.names[0]}: {where} {g.family} ({g.source})", err=True)
    typer.echo(f"{len(grown)} model(s) {'to add' if dry_run else 'added'}", err=True)
    sys.stdout.write(text)


@catalogue_app.command("show")
def catalogue_show(
    model: Annotated[str, typer.Argument(help="A model name or alias, e.g. 'GeForce RTX 5060'.")],
    file: CatalogueOpt = None,
) -> None:
    """A catalogue model: its family, and each sibling with the tokens that tell them apart (JSON)."""
    from .matching.catalogue import describe_model, load_catalogue

    try:
        found = describe_model(load_catalogue(file), model)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    if found is None:
        typer.echo(f"error: {model!r} is not in the catalogue (it is still matched by its tokens)", err=True)
        raise typer.Exit(1)
    _emit(found)


samples_app = typer.Typer(no_args_is_help=True, help="Labelled sample claims for the threshold lab.")
app.add_typer(samples_app, name="samples")


@samples_app.command("generate")
def samples_generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the claim folders into.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of claims.")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 1,
    kinds: Annotated[str, typer.Option("--kinds", help="all | documents (promotion_id null) | promotion.")] = "all",
    hard_share: Annotated[float, typer.Option(
        "--hard-share", min=0.0, max=1.0,
        help="Share of claims whose uploads are hard phone photos (hand shadow, glare, tilt, low resolution, "
             "rough JPEG; faded till receipts). 1: all of them, the same claims otherwise.")] = 0.2,
) -> None:
    """Generate labelled sample claims (claim.json, documents, expected.json), deterministic for a seed."""
    from .lab import KINDS, generate, render_generated

    if kinds not in KINDS:
        typer.echo(f"error: --kinds must be one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    folders = generate(out, n=n, seed=seed, kinds=kinds, hard_share=hard_share, progress=True)
    sys.stdout.write(render_generated(folders) + "\n")


@samples_app.command("same-template")
def samples_same_template(
    out: Annotated[Path, typer.Argument(help="Folder to write the claim folders into.")],
    no_buyer: Annotated[bool, typer.Option("--no-buyer", help="The invoices print no buyer.")] = False,
    n: Annotated[int, typer.Option("--n", min=2, max=28, help="Number of buyers (one invoice a day).")] = 4,
    form: Annotated[str, typer.Option(
        "--form", help="pdf | scan_pdf | photo | hard_photo | hard_receipt.")] = "photo",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 17,
) -> None:
    """Issue #17's case: N buyers of one bundle (MEG X570 ACE + Ryzen 9 3900X) at Komplett.no, invoices
    from one template dated 17, 18, 19, 20 ... February 2020, each claiming once; all genuine."""
    from .lab import render_generated
    from .lab.generator import write_template_series

    try:
        folders = write_template_series(out, seed=seed, buyer=not no_buyer, n=n, form=form)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(render_generated(folders) + "\n")


@app.command()
def evaluate(
    root: Annotated[Path, typer.Argument(help="A folder of labelled claims (expected.json per claim).")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Report folder (report.html, metrics.json, ...).")] = Path(
        "out/lab"),
    workers: Annotated[Optional[int], typer.Option(help="Parallel processes (default: one per core).")] = None,
    results: Annotated[Optional[Path], typer.Option(
        help="Use these batch results (JSON lines) instead of verifying again.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json instead of the summary.")] = False,
    no_prefect: NoPrefectOpt = False,
    runner: RunnerOpt = "local",
    dask_address: DaskAddressOpt = None,
    prefect: PrefectOpt = False,
    reuse: Annotated[bool, typer.Option(
        "--reuse/--no-reuse", help="Restore the decisions of an identical earlier run (same claims' bytes, "
                                   "config, knowledge, terms, code, day) instead of verifying again.")] = True,
) -> None:
    """Verify a labelled set and compare with its labels: confusion matrix, per-check and per-reason
    accuracy, approve/reject cut-off sweep; writes OUT/report.html with PNG plots, metrics.json, claims.csv.
    Runs the Prefect flow evaluate when a Prefect server is configured (or with --prefect); without one,
    an identical earlier run's decisions are reused (--no-reuse: verify again)."""
    from .lab import render_metrics

    _config(config)  # fail fast, before any worker starts
    if not root.is_dir():
        typer.echo(f"error: {root} is not a folder", err=True)
        raise typer.Exit(2)
    _check_runner(no_prefect, runner, dask_address)
    if _without_prefect(no_prefect, prefect, runner, dask_address):
        from .lab import evaluate as run_lab

        metrics = run_lab(root, config_path=config, out_dir=out, workers=workers, results=results,
                          reuse=reuse)
    else:
        from flows import evaluate as evaluate_flow

        metrics = evaluate_flow(str(root), str(out), config_path=str(config) if config else None, workers=workers,
                                runner=runner, dask_address=dask_address, results=str(results) if results else None,
                                progress=True)
    sys.stdout.write((json.dumps(metrics, ensure_ascii=False) if as_json else render_metrics(metrics)) + "\n")
    typer.echo(f"report: {out / 'report.html'}", err=True)


@app.command()
def diff(
    run_a: Annotated[Path, typer.Argument(help="Decisions of run A (JSON lines).")],
    run_b: Annotated[Path, typer.Argument(help="Decisions of run B (JSON lines).")],
    all_changes: Annotated[bool, typer.Option(
        "--all", help="Also list claims whose checks changed but not their decision.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per changed claim.")] = False,
) -> None:
    """Which claims changed decision between two runs, and why (the checks that changed)."""
    from .lab import diff_runs, render_diff

    for path in (run_a, run_b):
        if not path.is_file():
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(2)
    rows = diff_runs(run_a, run_b, all_changes=all_changes)
    if as_json:
        for row in rows:
            _emit(row)
    else:
        sys.stdout.write(render_diff(rows) + "\n")


# ---------------------------------------------------------------------- the reviewer workspace (issue #6)

UsersOpt = Annotated[Optional[Path], typer.Option(
    "--users", help="Reviewers' TOML file (default: $CLAIMCHECK_USERS, else ~/.config/claimcheck/users.toml).")]
users_app = typer.Typer(no_args_is_help=True, help="Reviewers who may sign in to `claimcheck serve`.")
app.add_typer(users_app, name="users")
labels_app = typer.Typer(no_args_is_help=True, help="Reviewer actions as labels for `claimcheck evaluate`.")
app.add_typer(labels_app, name="labels")


from .api.cli import api as _api  # noqa: E402 - the intake API (issue #14)
from .api.cli import tokens_app  # noqa: E402

app.add_typer(tokens_app, name="tokens")
app.command("api")(_api)


@app.command()
def serve(
    db: Annotated[str, typer.Option("--db", help="Claim store with the decisions to review.")] = "sqlite:///out/claimcheck.db",
    claims: Annotated[Optional[Path], typer.Option(
        "--claims", help="First verify the claims below this folder that the store has no decision for.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (only this machine by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    config: Annotated[Optional[Path], typer.Option(help="TOML config merged over the defaults.")] = None,
    users: UsersOpt = None,
    secure_cookie: Annotated[bool, typer.Option(
        "--secure-cookie", help="Send the session cookie over HTTPS only (behind a TLS proxy).")] = False,
) -> None:
    """The reviewer workspace in the browser: the queue, each claim's documents with evidence boxes,
    approve / reject / request info (stored beside the pipeline's decisions, never over them)."""
    import uvicorn

    from .db import SqlClaimStore
    from .web import auth
    from .web.app import WebSettings, create_app
    from .web.claims import verify_new_claims

    cfg = _config(config)
    users_file = users or auth.default_users_file()
    try:
        store = SqlClaimStore(db)
        if claims is not None:
            if not claims.is_dir():
                typer.echo(f"error: {claims} is not a folder", err=True)
                raise typer.Exit(2)
            n = verify_new_claims(claims, store, with_overrides(cfg, store_url=db))
            typer.echo(f"verified {n} new claim(s) below {claims}", err=True)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    if not auth.load_users(users_file):
        typer.echo(f"warning: no reviewers in {users_file}: add one with `claimcheck users add NAME`", err=True)
    web = create_app(WebSettings(db_url=db, users_file=users_file, config_path=config, secure_cookie=secure_cookie),
                     store=store, config=cfg)
    typer.echo(f"reviewer workspace on http://{host}:{port}/ (store {db})", err=True)
    uvicorn.run(web, host=host, port=port, log_level="info")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The reviewer's sign-in name.")],
    users: UsersOpt = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (scripts).")] = False,
) -> None:
    """Add a reviewer (or set a new password): an scrypt hash with its own salt goes to the users file."""
    from .web import auth

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    path = users or auth.default_users_file()
    try:
        auth.add_user(path, name, password)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{name} can sign in ({path})", err=True)


@labels_app.command("export")
def labels_export(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the labelled copies (one folder per claim).")],
    db: Annotated[str, typer.Option("--db", help="Claim store with the reviewer actions.")] = "sqlite:///out/claimcheck.db",
) -> None:
    """Copy every claim a reviewer acted on to OUT_DIR with an expected.json from the newest action,
    for `claimcheck evaluate OUT_DIR`."""
    from .db import SqlClaimStore
    from .web.labels import export_labels

    try:
        with SqlClaimStore(db) as store:
            written = export_labels(store, out_dir)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{len(written)} labelled claim(s) in {out_dir}", err=True)


retailers_app = typer.Typer(no_args_is_help=True, help="The retailer alias data.")
app.add_typer(retailers_app, name="retailers")


@retailers_app.command("learn")
def retailers_learn(
    db: Annotated[str, typer.Option("--db", help="Claim store with the decisions and reviewer actions.")] =
    "sqlite:///out/claimcheck.db",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the proposals to this TOML file "
                                                "(an extra alias file); default: print them.")] = None,
    min_claims: Annotated[int, typer.Option("--min-claims", min=1, help="Approved claims a proposal needs.")] = 1,
    config: Annotated[Optional[Path], typer.Option("--config", help="Config TOML (its retailer_aliases count "
                                                   "as known).")] = None,
) -> None:
    """Propose retailer aliases from reviewers' approvals: the seller read on each invoice a reviewer
    approved a claim for, where it is not the claimed shop's name (a legal entity and its brand)."""
    from .db import SqlClaimStore
    from .matching.retailer import load_retailers
    from .web.aliases import proposals_toml, propose_aliases

    cfg = _config(config)
    try:
        data = load_retailers(extra=cfg.matching.retailer_aliases or None)
        with SqlClaimStore(db) as store:
            proposals = propose_aliases(store, data, min_claims=min_claims)
    except ClaimcheckError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    text = proposals_toml(proposals, data)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    typer.echo(f"{len(proposals)} alias(es) proposed" + (f" in {out}" if out else ""), err=True)


def main() -> None:  # pragma: no cover
    app()
