//! Pinyin spellings of terms: `网络赌博` also matches `wangluodubo`,
//! `Wang Luo Du Bo`, `wǎng luò dǔ bó` and the mixed `网络du博`.
//!
//! A term of a category with `pinyin = true` gets, beside its own
//! spelling, the whole term written in toneless pinyin, and the term with
//! one or two of its characters so written (each reading of a polyphonic
//! character), as extra patterns of the one automaton. Normalization does
//! the rest: case, full width, tone marks (`ǎ` as `a`, `ü` as `v`) and
//! the spaces and hyphens between syllables (noise). A spelling that
//! starts or ends with a Latin letter matches at an ASCII word boundary
//! there, as every such term does.

use super::pinyin_table::{FIRST_CHAR, FIRST_READING, MORE_READINGS, SYLLABLES};

/// The most whole-pinyin spellings a term gets (its polyphonic
/// characters' readings combined): the common readings come first.
pub(crate) const MAX_WHOLE_SPELLINGS: usize = 16;

/// The most characters of a mixed spelling written in pinyin (`网络du博`,
/// `代开fa票`): people swap one or two characters; more is rare and the
/// combinations would grow as 2^n per term.
pub(crate) const MAX_MIXED_LATIN: usize = 2;

/// The toneless readings of `c` (`ü` as `v`), the common one first; none
/// for a character outside the table.
pub(crate) fn readings(c: char) -> Vec<&'static str> {
    let u = c as u32;
    let Some(first) = u
        .checked_sub(FIRST_CHAR)
        .and_then(|i| FIRST_READING.get(i as usize))
        .filter(|&&r| r != 0)
    else {
        return Vec::new();
    };
    let mut out = vec![SYLLABLES[usize::from(*first) - 1]];
    let from = MORE_READINGS.partition_point(|&(x, _)| x < u);
    for &(_, r) in MORE_READINGS[from..].iter().take_while(|&&(x, _)| x == u) {
        out.push(SYLLABLES[usize::from(r) - 1]);
    }
    out
}

/// The pinyin spellings of a normalized term, the term itself not among
/// them: the whole term in pinyin (every reading of its polyphonic
/// characters, the common readings first, at most
/// [`MAX_WHOLE_SPELLINGS`]), and the term with one or two of its
/// characters in pinyin (each of their readings).
pub(crate) fn spellings(term: &[char]) -> Vec<String> {
    // Each character's readings (`v` also as `u`: `lü` is typed `lv` and
    // `lu`); none for a character without one.
    let readings: Vec<Vec<String>> = term
        .iter()
        .map(|&c| {
            let mut options = Vec::new();
            for r in readings(c) {
                options.push(r.to_string());
                if r.contains('v') {
                    options.push(r.replace('v', "u"));
                }
            }
            options
        })
        .collect();
    let spelled: Vec<usize> = (0..term.len())
        .filter(|&i| !readings[i].is_empty())
        .collect();
    if spelled.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    // Whole: each character in one of its readings.
    for pick in combinations(&readings, MAX_WHOLE_SPELLINGS) {
        push(
            (0..term.len())
                .map(|i| {
                    readings[i]
                        .get(pick[i])
                        .map_or_else(|| term[i].to_string(), Clone::clone)
                })
                .collect(),
        );
    }
    // Mixed: one or two characters in pinyin, each of their readings.
    let with = |latin: &[(usize, &str)]| -> String {
        (0..term.len())
            .map(|i| {
                latin
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map_or_else(|| term[i].to_string(), |(_, r)| r.to_string())
            })
            .collect()
    };
    for (n, &i) in spelled.iter().enumerate() {
        for r in &readings[i] {
            push(with(&[(i, r)]));
            if MAX_MIXED_LATIN < 2 {
                continue;
            }
            for &j in &spelled[n + 1..] {
                for q in &readings[j] {
                    push(with(&[(i, r), (j, q)]));
                }
            }
        }
    }
    let itself: String = term.iter().collect();
    out.retain(|s| *s != itself);
    out
}

/// The first code point of the sounds: `U+E000 + syllable` (private use,
/// three bytes in UTF-8 like the ideographs they stand for).
const SOUND_BASE: u32 = 0xE000;

/// The character a normalized character is in the sound channel of the
/// text (see [`sound_text`]): an ideograph with a reading becomes its
/// common syllable; a private-use character of the text becomes U+FFFD, so
/// that it can never be taken for a syllable; everything else stays.
#[inline]
fn sound_of(c: char) -> char {
    if c.len_utf8() != 3 {
        return c;
    }
    three_byte_sound(c as u32)
        .and_then(char::from_u32)
        .unwrap_or(c)
}

/// The sound channel of normalized text, written into `out`: each
/// ideograph replaced by its common syllable, so that same-sound
/// characters are equal there (`网络堵博` and `网络赌博`). Every character
/// keeps its length in bytes, so offsets into the channel are offsets
/// into the normalized text. Read it with [`sound_str`].
pub(crate) fn sound_text(norm: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(norm.as_bytes());
    let bytes = norm.as_bytes();
    let mut i = 0;
    // Only three-byte characters change (the ideographs with a reading and
    // the private-use characters): rewritten in place.
    while i < bytes.len() {
        let b = bytes[i];
        if !(0xE0..0xF0).contains(&b) {
            i += match b {
                ..0x80 => 1,
                0xF0.. => 4,
                _ => 2,
            };
            continue;
        }
        let u = u32::from(b & 0x0F) << 12
            | u32::from(bytes[i + 1] & 0x3F) << 6
            | u32::from(bytes[i + 2] & 0x3F);
        if let Some(sound) = three_byte_sound(u) {
            // U+E000..U+F8FF is EE..EF 80..BF 80..BF.
            out[i] = 0xE0 | (sound >> 12) as u8;
            out[i + 1] = 0x80 | ((sound >> 6) & 0x3F) as u8;
            out[i + 2] = 0x80 | (sound & 0x3F) as u8;
        }
        i += 3;
    }
}

/// The sound channel [`sound_text`] wrote, as text.
pub(crate) fn sound_str(sound: &[u8]) -> &str {
    simdutf8::basic::from_utf8(sound).expect("the sound channel is UTF-8")
}

/// What the three-byte character `u` becomes in the sound channel when
/// not itself: a syllable's code, or U+FFFD for private use.
#[inline(always)]
fn three_byte_sound(u: u32) -> Option<u32> {
    if (SOUND_BASE..=0xF8FF).contains(&u) {
        return Some(0xFFFD);
    }
    let r = *FIRST_READING.get(u.checked_sub(FIRST_CHAR)? as usize)?;
    (r != 0).then_some(SOUND_BASE + u32::from(r))
}

/// The sound-channel spellings of a normalized term: each ideograph as
/// one of its syllables (every reading of a polyphonic one, the common
/// readings first, at most [`MAX_WHOLE_SPELLINGS`]).
pub(crate) fn sound_spellings(term: &[char]) -> Vec<String> {
    let choices: Vec<Vec<char>> = term
        .iter()
        .map(|&c| {
            let sounds: Vec<char> = readings(c)
                .iter()
                .filter_map(|r| SYLLABLES.iter().position(|s| s == r))
                .filter_map(|i| char::from_u32(SOUND_BASE + 1 + i as u32))
                .collect();
            if sounds.is_empty() {
                vec![sound_of(c)]
            } else {
                sounds
            }
        })
        .collect();
    combinations(&choices, MAX_WHOLE_SPELLINGS)
        .map(|pick| pick.iter().zip(&choices).map(|(&k, c)| c[k]).collect())
        .collect()
}

/// Up to `max` picks of one choice per position (an index into each of
/// `choices`; a position with none picks 0), as an odometer turns, the
/// last position fastest: the first pick is every position's first choice.
fn combinations<T>(choices: &[Vec<T>], max: usize) -> impl Iterator<Item = Vec<usize>> + '_ {
    let mut pick = Some(vec![0usize; choices.len()]);
    std::iter::from_fn(move || {
        let current = pick.take()?;
        let mut next = current.clone();
        if let Some(i) = (0..next.len())
            .rev()
            .find(|&i| next[i] + 1 < choices[i].len())
        {
            next[i] += 1;
            next[i + 1..].fill(0);
            pick = Some(next);
        }
        Some(current)
    })
    .take(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sound(text: &str) -> String {
        let mut out = Vec::new();
        sound_text(text, &mut out);
        sound_str(&out).to_string()
    }

    #[test]
    fn same_sounds_are_equal_in_the_sound_channel() {
        assert_eq!(sound("网络赌博"), sound("网络堵博"));
        assert_eq!(sound("网络赌博").len(), "网络赌博".len());
        assert_ne!(sound("六合区"), sound("六合彩"));
        // A private-use character of the text is never a syllable.
        assert_eq!(sound("\u{E001}x"), "\u{FFFD}x");
        // Every other character stays, whatever its length.
        let others = "abc ①é\u{20000}\u{FFFF}";
        assert_eq!(sound(others), others);
        // Each ideograph is its common syllable, as the first spelling of
        // a term writes it.
        for term in ["网络赌博", "六合彩", "代开发票", "行长"] {
            let chars: Vec<char> = term.chars().collect();
            assert_eq!(sound_spellings(&chars)[0], sound(term), "{term}");
        }
        // A polyphonic term character: each of its readings.
        let term: Vec<char> = "百家乐".chars().collect();
        let spellings = sound_spellings(&term);
        assert!(
            spellings.contains(&sound("百家悦")) && spellings.contains(&sound("百家乐")),
            "{spellings:?}"
        );
    }

    #[test]
    fn readings_of_common_and_polyphonic_characters() {
        assert_eq!(readings('网'), ["wang"]);
        assert_eq!(readings('赌'), ["du"]);
        assert_eq!(readings('行')[..2], ["xing", "hang"]);
        assert!(readings('乐').contains(&"yue"));
        assert_eq!(readings('绿')[0], "lv");
        assert!(readings('a').is_empty());
        assert!(readings('\u{20000}').is_empty(), "outside the table");
    }

    #[test]
    fn spellings_mix_characters_and_syllables() {
        let term: Vec<char> = "网络赌博".chars().collect();
        let all = spellings(&term);
        for want in [
            "wangluodubo",
            "网络du博",
            "wang络赌博",
            "网络赌bo",
            "wangluo赌博",
            "wang络du博",
        ] {
            assert!(all.iter().any(|s| s == want), "{want} in {all:?}");
        }
        assert!(!all.iter().any(|s| s == "网络赌博"), "the term itself");
        // 络 reads luo and lao: both.
        assert!(all.iter().any(|s| s == "wanglaodubo"));
        assert!(all.iter().any(|s| s == "网lao赌博"));
        // Three characters in pinyin are the whole term or nothing.
        assert!(!all.iter().any(|s| s == "wangluodu博"));
        assert!(spellings(&"abc".chars().collect::<Vec<_>>()).is_empty());
    }

    #[test]
    fn many_polyphonic_characters_are_capped() {
        let term: Vec<char> = "行长重乐行长重乐".chars().collect();
        let all = spellings(&term);
        let whole = all.iter().filter(|s| s.is_ascii()).count();
        assert_eq!(whole, MAX_WHOLE_SPELLINGS);
        assert_eq!(
            all[0],
            "xingzhangzhongle".repeat(2),
            "the common readings first"
        );
        assert!(all
            .iter()
            .all(|s| s.chars().filter(char::is_ascii_lowercase).count() > 0));
        // At most two characters in pinyin in a mixed spelling.
        assert!(all.iter().filter(|s| !s.is_ascii()).all(|s| s
            .chars()
            .filter(|c| !c.is_ascii())
            .count()
            >= term.len() - 2));
    }
}
