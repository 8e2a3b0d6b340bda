//! Redaction (脱敏) of resident free text before it reaches any public output: Open311, similar
//! complaints, a supporter's tracking view, anything a person without the reporter's code sees.
//! One module, used by every public path, so a pattern fixed here is fixed everywhere.
//!
//! What is hidden (each replaced by `***`):
//! - phone numbers: mobiles (`13812345678`, `138 1234 5678`, `+86-138-…`), landlines
//!   (`010-12345678`, `0755 8888 8888`, `88881234`); in general any run of seven or more digits,
//!   spaces and dashes between them allowed, ASCII or full-width;
//! - ID-card numbers (身份证号): 18 digits with a final `X`, and the old 15-digit form;
//! - room and building numbers (门牌): the number before 号楼 / 栋 / 幢 / 座 / 单元 / 室 / 户 /
//!   房 / 楼 (`3号楼2单元501室` → `***号楼***单元***室`, `三号楼` → `***号楼`), the number after
//!   单元 / 号楼 / 栋 / 幢 / 座 (`2单元501`), and dashed forms such as `2-501` or `3-2-1102`.
//!
//! Not hidden: short numbers with no room word (dates, amounts, `5天`), names (no reliable
//! pattern; the forms ask for names in their own field, which is never public).

/// What replaces a hidden part.
pub const MASK: &str = "***";

/// Words after a number that make it a building, unit or room number. Longest first.
const ROOM_WORDS: [&str; 11] = [
    "号楼", "号院", "房间", "号房", "单元", "栋", "幢", "座", "室", "户", "楼",
];

/// `text` with every phone, ID-card and room number replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if digit(c) || (c == '+' && chars.get(i + 1).copied().is_some_and(digit)) {
            let run = number_run(&chars, i);
            let room_word = room_word_at(&chars, skip_spaces(&chars, run.end))
                || after_building_word(&chars, i);
            if run.digits >= 7 || run.dashed_room || room_word {
                out.push_str(MASK);
            } else {
                out.extend(&chars[i..run.end]);
            }
            i = run.end;
        } else if chinese_numeral(c) {
            let mut end = i;
            while end < chars.len() && chinese_numeral(chars[end]) {
                end += 1;
            }
            if room_word_at(&chars, end) && !chars[end..].starts_with(&['楼']) {
                out.push_str(MASK);
            } else {
                out.extend(&chars[i..end]);
            }
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The first 60 characters of the redacted `text` (with `…` when cut), for lists. Redacted
/// before it is cut, so a cut never leaves a shortened phone number behind.
pub fn summary(text: &str) -> String {
    shorten(&redact(text))
}

/// The first 60 characters of `text`, with `…` when it was longer (staff lists, notifications;
/// not redacted: use [`summary`] for anything public).
pub fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}

struct Run {
    end: usize,
    digits: usize,
    dashed_room: bool,
}

fn digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '－' | '—' | '–' | '\u{3000}')
}

fn dash(c: char) -> bool {
    matches!(c, '-' | '－' | '—' | '–')
}

fn chinese_numeral(c: char) -> bool {
    "一二两三四五六七八九十百零〇".contains(c)
}

/// The number that starts at `start`: digits, single separators between digits, a trailing
/// `X` after 17 digits (ID cards).
fn number_run(chars: &[char], start: usize) -> Run {
    let mut i = start;
    if chars[i] == '+' {
        i += 1;
    }
    let mut groups: Vec<usize> = vec![0];
    let mut all_dashes = true;
    while i < chars.len() {
        let c = chars[i];
        if digit(c) {
            if let Some(last) = groups.last_mut() {
                *last += 1;
            }
            i += 1;
        } else if separator(c) && chars.get(i + 1).copied().is_some_and(digit) {
            all_dashes &= dash(c);
            groups.push(0);
            i += 1;
        } else {
            break;
        }
    }
    let digits: usize = groups.iter().sum();
    if digits == 17
        && chars
            .get(i)
            .is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ'))
    {
        i += 1;
    }
    let first = groups.first().copied().unwrap_or(0);
    let last = groups.last().copied().unwrap_or(0);
    let dashed_room =
        all_dashes && (2..=3).contains(&groups.len()) && first <= 3 && (3..=4).contains(&last);
    // 2026-12-02: a date, not a phone number.
    let date = all_dashes
        && groups.len() == 3
        && first == 4
        && groups[1..].iter().all(|g| (1..=2).contains(g));
    Run {
        end: i,
        digits: if date { 0 } else { digits },
        dashed_room,
    }
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\u{3000}') {
        i += 1;
    }
    i
}

/// Whether the text before `at` (spaces skipped) ends with 单元, 号楼, 栋, 幢 or 座: then the
/// number at `at` is a room (`2单元501`).
fn after_building_word(chars: &[char], mut at: usize) -> bool {
    while at > 0 && (chars[at - 1] == ' ' || chars[at - 1] == '\u{3000}') {
        at -= 1;
    }
    let before = &chars[..at];
    ["单元", "号楼", "栋", "幢", "座"].iter().any(|w| {
        let w: Vec<char> = w.chars().collect();
        before.ends_with(&w)
    })
}

fn room_word_at(chars: &[char], at: usize) -> bool {
    let rest = chars.get(at..).unwrap_or(&[]);
    ROOM_WORDS.iter().any(|w| {
        let w: Vec<char> = w.chars().collect();
        rest.starts_with(&w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_in_every_spelling() {
        for raw in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 13812345678",
            "+86-138-1234-5678",
            "１３８１２３４５６７８",
        ] {
            let text = format!("请联系我{raw}谢谢");
            assert_eq!(redact(&text), "请联系我***谢谢", "{raw}");
        }
    }

    #[test]
    fn landlines() {
        assert_eq!(redact("电话010-12345678"), "电话***");
        assert_eq!(redact("电话 0755 8888 8888。"), "电话 ***。");
        assert_eq!(redact("座机88881234"), "座机***");
    }

    #[test]
    fn id_card_numbers() {
        assert_eq!(redact("身份证11010519491231002X号"), "身份证***号");
        assert_eq!(redact("身份证11010519491231002x"), "身份证***");
        assert_eq!(redact("110105194912310021"), "***");
        assert_eq!(redact("老证号110105491231002"), "老证号***");
    }

    #[test]
    fn room_numbers() {
        assert_eq!(redact("3号楼2单元501室漏水"), "***号楼***单元***室漏水");
        assert_eq!(redact("住501室"), "住***室");
        assert_eq!(redact("住 501 室"), "住 *** 室");
        assert_eq!(redact("2-501门口"), "***门口");
        assert_eq!(redact("3-2-1102"), "***");
        assert_eq!(redact("三号楼东侧"), "***号楼东侧");
        assert_eq!(redact("12栋1单元"), "***栋***单元");
        assert_eq!(redact("５０１室"), "***室");
        assert_eq!(redact("3号楼2单元501有噪音"), "***号楼***单元***有噪音");
        assert_eq!(redact("5栋 302"), "***栋 ***");
    }

    #[test]
    fn ordinary_text_is_kept() {
        for text in [
            "工地夜里还在施工，扬尘很大",
            "已经5天了",
            "2026-12-02 晚上10点",
            "花了300元",
            "楼道灯坏了",
            "一楼大厅",
            "",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn summary_redacts_before_cutting() {
        let text = format!("{}13812345678", "扬".repeat(58));
        let s = summary(&text);
        assert!(!s.contains("13812"), "{s}");
        assert!(s.ends_with('…'));
        assert_eq!(summary("短"), "短");
    }
}
