"""The detectors against validators no one here wrote.

Usage: oracles.py FILTER_SERVER_BINARY WORK_DIR [SEED]

Generates thousands of resident ID numbers, mobile numbers and card
numbers, valid and one character off, over every region and segment,
glues each to Chinese text on a line of its own, runs
`filter-server scan --format json --kinds KIND` on them and requires the
findings to agree, line by line, with python-stdnum (stdnum.cn.ric,
stdnum.luhn) and phonenumbers (libphonenumber's CN metadata).

Where the detectors follow a documented rule of their own, the
disagreement is listed here with the reason, generated on purpose, and
checked to go the documented way:

* IDs: stdnum accepts any calendar date and checks the six-digit county
  code against its table of codes by year; the detector requires a birth
  date from 1900-01-01 to today and checks the two-digit province only
  (county codes change every year, and an ID keeps the code of its year
  of issue). So a county stdnum does not know is found by the detector,
  and a date before 1900 or in the future is not.
* Cards: Luhn is stdnum's; the detector also requires a network's issuer
  range and length (the table NETWORKS below, from the networks'
  published ranges), and never reads a number with a real province and
  birth date as a card (a mistyped ID).

Exits non-zero with the first disagreements.
"""

import datetime
import json
import os
import random
import subprocess
import sys

import phonenumbers
import stdnum
from stdnum import luhn
from stdnum.cn import ric

BINARY, WORK = sys.argv[1], sys.argv[2]
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 20261127
rng = random.Random(SEED)
TODAY = datetime.date.today()
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
             44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}


def county_codes():
    """Six-digit codes of stdnum's table (cn/loc.dat)."""
    path = os.path.join(stdnum.__path__[0], "cn", "loc.dat")
    codes, province = [], None
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        if not line.startswith(" "):
            province = line.split()[0]
        else:
            codes.append(province + line.split()[0])
    return codes


def ric_valid(n):
    """stdnum's verdict. Its table has a few codes with a province and no
    county, for which it raises KeyError: those count as unknown codes."""
    try:
        return ric.is_valid(n)
    except KeyError:
        return False


def with_check(body17):
    return body17 + ric.calc_check_digit(body17 + "0")


def random_date(lo_year, hi):
    lo = datetime.date(lo_year, 1, 1)
    return lo + datetime.timedelta(days=rng.randrange((hi - lo).days + 1))


def one_off(number):
    """`number` with one character changed (a digit, or the check)."""
    i = rng.randrange(len(number))
    choices = "0123456789X" if i == len(number) - 1 else "0123456789"
    c = rng.choice([c for c in choices if c != number[i]])
    return number[:i] + c + number[i + 1:]


def id_cases():
    """(number, oracle says valid, detector must find, reason)."""
    codes = county_codes()
    cases = []
    while len(cases) < 3000:
        code = rng.choice(codes)
        date = random_date(1900, TODAY)
        n = with_check(code + date.strftime("%Y%m%d") + "%03d" % rng.randrange(1000))
        if not ric_valid(n):
            continue  # the county was not in use that year: a case below
        cases.append((n, True, True, ""))
        bad = one_off(n)
        cases.append((bad, ric_valid(bad), ric_valid(bad) and detector_date_ok(bad), ""))
    # Documented disagreements, each generated on purpose.
    for _ in range(200):
        province = rng.choice(sorted(PROVINCES - {83}))
        county = "%02d%02d%02d" % (province, rng.randrange(90, 100), rng.randrange(90, 100))
        n = with_check(county + random_date(1950, TODAY).strftime("%Y%m%d") + "123")
        if not ric_valid(n):
            cases.append((n, False, True, "a county code stdnum does not know: the detector checks the province"))
    for year in (1850, 1899):
        code = rng.choice(codes)
        n = with_check(code + "%04d0615" % year + "123")
        cases.append((n, ric_valid(n), False, "born before 1900: the detector's date range"))
    future = TODAY + datetime.timedelta(days=400)
    n = with_check("110101" + future.strftime("%Y%m%d") + "123")
    cases.append((n, ric_valid(n), False, "born in the future"))
    return cases


def detector_date_ok(n):
    try:
        d = datetime.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= d <= TODAY and int(n[:2]) in PROVINCES


def phone_cases():
    cases = []
    prefixes = ["1%02d" % p for p in range(0, 100)]
    prefixes += ["1349", "1400", "1410", "1440", "1610", "1611", "1690", "1700", "1740", "1741", "1745", "1746"]
    for prefix in prefixes:
        for _ in range(30):
            n = prefix + "".join(rng.choice("0123456789") for _ in range(11 - len(prefix)))
            parsed = phonenumbers.parse("+86" + n)
            mobile = phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
                phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
            cases.append((n, mobile, mobile, ""))
            # One digit more or less is never a mobile number.
            cases.append((n + rng.choice("0123456789"), False, False, ""))
            cases.append((n[:-1], False, False, ""))
    return cases


def looks_like_id(n):
    """A real province and date where an ID has them: a mistyped ID."""
    if len(n) == 18:
        return int(n[:2]) in PROVINCES and detector_date_ok(n)
    if len(n) == 15:
        try:
            d = datetime.date(1900 + int(n[6:8]), int(n[8:10]), int(n[10:12]))
        except ValueError:
            return False
        return int(n[:2]) in PROVINCES and d <= TODAY
    return False


# (first IIN, last IIN, lengths): Visa, Mastercard, American Express,
# UnionPay, JCB, Discover, Diners Club, as the networks publish them.
NETWORKS = [
    ("4", "4", {13, 16, 19}),
    ("51", "55", {16}),
    ("2221", "2720", {16}),
    ("34", "34", {15}),
    ("37", "37", {15}),
    ("62", "62", set(range(16, 20))),
    ("3528", "3589", set(range(16, 20))),
    ("6011", "6011", set(range(16, 20))),
    ("644", "649", set(range(16, 20))),
    ("65", "65", set(range(16, 20))),
    ("36", "36", set(range(14, 20))),
    ("38", "38", set(range(14, 20))),
    ("300", "305", set(range(14, 20))),
]


def in_network(n):
    return any(lo <= n[:len(lo)] <= hi and len(n) in lengths for lo, hi, lengths in NETWORKS)


def card_cases():
    cases = []
    for i in range(3000):
        # Mostly a network's prefix and a length near its own; some random.
        length = rng.randrange(13, 20) if i % 5 else rng.randrange(10, 23)
        if i % 5:
            lo, hi, _ = rng.choice(NETWORKS)
            first = str(rng.randrange(int(lo), int(hi) + 1))
        else:
            first = rng.choice("0123456789")
        body = first + "".join(rng.choice("0123456789") for _ in range(length - 1 - len(first)))
        n = body + luhn.calc_check_digit(body)
        for number in (n, one_off(n)):
            valid = luhn.is_valid(number)
            rule = in_network(number)
            if valid and rule and looks_like_id(number):
                cases.append((number, valid, False, "a real province and date: a mistyped ID, not a card"))
            else:
                cases.append((number, valid, valid and rule, "" if rule else "not in a network's ranges and lengths"))
    return cases


def scan(kind, numbers):
    path = os.path.join(WORK, kind + ".txt")
    with open(path, "w", encoding="utf-8") as f:
        for n in numbers:
            f.write("号码" + n + "，请核对。\n")
    out = subprocess.run([BINARY, "scan", "--format", "json", "--kinds", kind, path],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"{kind}: filter-server failed: {out.stderr}")
    found = {}
    text = open(path, encoding="utf-8").read()
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    for line in out.stdout.splitlines():
        f = json.loads(line)
        row = max(i for i, s in enumerate(starts) if s <= f["cp_start"])
        found.setdefault(row, []).append(f["text"])
    return found


def check(kind, cases):
    found = scan(kind, [c[0] for c in cases])
    wrong = []
    agreed = documented = 0
    for row, (number, oracle, want, reason) in enumerate(cases):
        got = found.get(row, []) == [number]
        if got != want:
            wrong.append(f"  {number}: detector {'found' if got else 'missed'} it; oracle says {'valid' if oracle else 'invalid'}")
        elif oracle == want:
            agreed += 1
        else:
            documented += 1
            assert reason, f"{number}: an undocumented disagreement"
    print(f"{kind}: {len(cases)} numbers, {agreed} agree with the oracle, {documented} documented disagreements")
    if wrong:
        print(f"{kind}: {len(wrong)} wrong:\n" + "\n".join(wrong[:20]))
    return not wrong


ok = check("id_card", id_cases())
ok &= check("phone", phone_cases())
ok &= check("bank_card", card_cases())
sys.exit(0 if ok else 1)
