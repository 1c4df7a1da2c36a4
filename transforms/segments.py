"""Customers as of the feedback's date, and segment membership from named rules over their attributes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

OPTIONAL_COLUMNS = ("domains",)  # e-mail domains of the account's people, ";"-separated
CUSTOMER_COLUMNS = (
    "account_id",
    "account_name",
    "plan",
    "arr",
    "region",
    "lifecycle",
    "persona",
    "target_market",
    "valid_from",
)
_REQUIRED = ("account_id",)


class CustomersError(ValueError):
    """A problem in the customers table, naming the file, row and column."""


def customers_frame(raw: pd.DataFrame, origin: str = "customers") -> pd.DataFrame:
    """The customers table with typed columns; missing optional columns are added empty."""
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise CustomersError(f"{origin}: missing column(s) {missing}; found {list(raw.columns)}")
    df = raw.copy()
    for col in CUSTOMER_COLUMNS:
        if col not in df.columns:
            df[col] = None
    if "domains" not in df.columns:
        df["domains"] = None
    df = df[[*CUSTOMER_COLUMNS, "domains"]]
    df["account_id"] = df["account_id"].astype("string")
    if df["account_id"].isna().any():
        row = int(np.flatnonzero(df["account_id"].isna().to_numpy())[0]) + 2
        raise CustomersError(f"{origin}: row {row}: account_id is empty")
    arr = pd.to_numeric(df["arr"], errors="coerce")
    bad = df["arr"].notna() & (df["arr"].astype("string") != "") & arr.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise CustomersError(
            f"{origin}: row {row}: arr {df['arr'].iloc[row - 2]!r} is not a number"
        )
    df["arr"] = arr.fillna(0.0).astype(float)
    tm = df["target_market"].astype("string").str.strip().str.lower()
    df["target_market"] = tm.isin(["true", "1", "yes", "y", "t"])
    vf = pd.to_datetime(df["valid_from"], errors="coerce", utc=True)
    bad = df["valid_from"].notna() & (df["valid_from"].astype("string") != "") & vf.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise CustomersError(
            f"{origin}: row {row}: valid_from {df['valid_from'].iloc[row - 2]!r} is not a date"
        )
    df["valid_from"] = vf.fillna(pd.Timestamp("1970-01-01", tz="UTC"))
    for col in ("account_name", "plan", "region", "lifecycle", "persona"):
        df[col] = df[col].astype("string")
    return df.sort_values(["account_id", "valid_from"], kind="stable").reset_index(drop=True)


def read_customers(path: str, fmt: str | None = None) -> pd.DataFrame:
    fmt = fmt or ("parquet" if path.endswith(".parquet") else "csv")
    try:
        raw = (
            pd.read_parquet(path)
            if fmt == "parquet"
            else pd.read_csv(path, dtype=str, keep_default_na=False)
        )
    except FileNotFoundError:
        raise CustomersError(f"customers.path {path!r}: no such file") from None
    if fmt == "csv":
        raw = raw.replace({"": None})
    return customers_frame(raw, origin=path)


def pseudonymised_customers(
    customers: pd.DataFrame, pseudonym: Callable[[str], str | None]
) -> pd.DataFrame:
    out = customers.copy()
    out["account_id"] = pd.array([pseudonym(a) for a in out["account_id"]], dtype="string")
    return out


def attributes_as_of(
    account_ids: Sequence[str | None], dates: Sequence[Any], customers: pd.DataFrame
) -> pd.DataFrame:
    """Per item, the account's attributes valid at the item's date (its earliest row if before all)."""
    n = len(account_ids)
    items = pd.DataFrame(
        {
            "_i": np.arange(n),
            "account_id": pd.array(account_ids, dtype="string"),
            "at": pd.to_datetime(pd.Series(dates), utc=True).array,
        }
    )
    cols = [c for c in CUSTOMER_COLUMNS if c not in ("account_id", "valid_from")]
    known = items[items["account_id"].notna()].sort_values("at", kind="stable")
    if len(known) and len(customers):
        cust = customers.sort_values("valid_from", kind="stable")
        matched = pd.merge_asof(
            known, cust, left_on="at", right_on="valid_from", by="account_id", direction="backward"
        )
        earliest = customers.drop_duplicates("account_id", keep="first").set_index("account_id")
        miss = matched["plan"].isna() & matched["account_id"].isin(earliest.index)
        if miss.any():
            fill = earliest.loc[matched.loc[miss, "account_id"], cols]
            for col in cols:  # column by column: each keeps its dtype
                matched.loc[miss, col] = fill[col].to_numpy()
        # typed columns (strings stay strings), unknown accounts' rows all missing
        out = matched.set_index("_i")[cols].reindex(pd.RangeIndex(n))
    else:
        out = pd.DataFrame(index=pd.RangeIndex(n), columns=cols)
    out["known"] = (out["plan"].notna() | out["account_name"].notna()).to_numpy(bool)
    return out


def _matches(series: pd.Series, expected: Any) -> np.ndarray:
    """Rows whose value is (one of) `expected`; decided once per distinct value."""
    codes, _ = pd.factorize(series)
    present, first = np.unique(codes, return_index=True)  # -1 (missing) sorts first
    distinct = series.iloc[first].reset_index(drop=True)
    values = expected if isinstance(expected, list) else [expected]
    hit = np.zeros(len(distinct), dtype=bool)
    for v in values:
        if v is None:
            hit |= distinct.isna().to_numpy()
        elif isinstance(v, bool):
            hit |= (distinct.fillna(False).astype(bool) == v).to_numpy()
        elif isinstance(v, int | float):
            hit |= (pd.to_numeric(distinct, errors="coerce") == v).fillna(False).to_numpy()
        else:
            hit |= (
                (distinct.astype("string").str.lower() == str(v).lower()).fillna(False).to_numpy()
            )
    lookup = np.zeros(present.size + 1, dtype=bool)
    lookup[present + 1] = hit  # codes start at -1
    return lookup[np.asarray(codes) + 1]


def segment_masks(attrs: pd.DataFrame, segments: Sequence[Any]) -> dict[str, np.ndarray]:
    """name -> boolean mask per item; 'all' covers everyone. Segments may overlap."""
    masks = {"all": np.ones(len(attrs), dtype=bool)}
    for seg in segments:
        mask = np.ones(len(attrs), dtype=bool)
        for key, expected in seg.where.items():
            mask &= _matches(attrs[key], expected)
        masks[seg.name] = mask
    return masks


def accounts_by_domain(customers: pd.DataFrame) -> dict[str, str]:
    """e-mail domain -> account_id, for domains that name exactly one account."""
    seen: dict[str, set[str]] = {}
    for account, domains in zip(customers["account_id"], customers["domains"], strict=True):
        if domains is None or pd.isna(domains):
            continue
        for d in str(domains).replace(",", ";").split(";"):
            if d.strip():
                seen.setdefault(d.strip().lower(), set()).add(str(account))
    return {d: next(iter(a)) for d, a in seen.items() if len(a) == 1}
