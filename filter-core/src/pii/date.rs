//! Calendar arithmetic for birth dates, without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// A date as `yyyymmdd`, which orders like the date itself.
pub(crate) type Ymd = u32;

/// Today's date (UTC) as `yyyymmdd`.
pub(crate) fn today() -> Ymd {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    (y as u32) * 10_000 + m * 100 + d
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm over 400-year eras.
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

/// Whether `y-m-d` is a real calendar date.
pub(crate) fn is_real_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Whether `y-m-d` is a real date between 1900-01-01 and `today`.
pub(crate) fn is_birth_date(y: u32, m: u32, d: u32, today: Ymd) -> bool {
    y >= 1900 && is_real_date(y, m, d) && y * 10_000 + m * 100 + d <= today
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_453), (2025, 12, 31));
    }

    /// The calendar against GNU `date`, an implementation no one here
    /// wrote, on days from 1899 to 2101 (century years and leap days
    /// included), and today against `date -u`.
    #[test]
    fn civil_dates_agree_with_the_date_command() {
        let days: Vec<i64> = (-25_600..48_000)
            .step_by(97)
            .chain([-25_508, 11_016, 47_540, 47_541])
            .collect();
        let input: String = days.iter().map(|d| format!("@{}\n", d * 86_400)).collect();
        let dir = std::env::temp_dir().join(format!("cf-dates-{}", std::process::id()));
        std::fs::write(&dir, input).unwrap();
        let out = std::process::Command::new("date")
            .args(["-u", "+%Y %m %d", "-f"])
            .arg(&dir)
            .output()
            .expect("GNU date runs");
        let _ = std::fs::remove_file(&dir);
        let text = String::from_utf8(out.stdout).unwrap();
        let want: Vec<(i64, u32, u32)> = text
            .lines()
            .map(|l| {
                let v: Vec<i64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
                (v[0], v[1] as u32, v[2] as u32)
            })
            .collect();
        assert_eq!(want.len(), days.len());
        for (d, w) in days.iter().zip(want) {
            assert_eq!(civil_from_days(*d), w, "day {d}");
        }
        let today_out = std::process::Command::new("date")
            .args(["-u", "+%Y%m%d"])
            .output()
            .unwrap();
        let want_today: u32 = String::from_utf8(today_out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The two clocks may straddle midnight.
        let got = today();
        assert!(
            got == want_today || civil_is_next_day(want_today, got),
            "{got} vs {want_today}"
        );
    }

    fn civil_is_next_day(a: Ymd, b: Ymd) -> bool {
        (0..100_000i64).any(|d| {
            let (y, m, dd) = civil_from_days(d);
            let ymd = |(y, m, dd): (i64, u32, u32)| y as u32 * 10_000 + m * 100 + dd;
            ymd((y, m, dd)) == a && ymd(civil_from_days(d + 1)) == b
        })
    }

    #[test]
    fn birth_dates() {
        let today = 20261126;
        assert!(is_birth_date(2000, 2, 29, today));
        assert!(
            !is_birth_date(1900, 2, 29, today),
            "1900 is not a leap year"
        );
        assert!(!is_birth_date(1899, 12, 31, today));
        assert!(!is_birth_date(1990, 13, 1, today));
        assert!(!is_birth_date(1990, 4, 31, today));
        assert!(is_birth_date(2026, 11, 26, today));
        assert!(!is_birth_date(2026, 11, 27, today), "born tomorrow");
    }
}
