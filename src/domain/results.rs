//! The order of a notice's registration results. The intermediate server lists results in the
//! order it processed them and does not date every error, so an undated result is placed by its
//! file: right after the result before it (its import batch, then its line), never by when the
//! file happened to be loaded.
use chrono::NaiveDateTime;

/// Where a result sits in its file: the import batch and the line (both increase with time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FilePlace {
    pub batch: i64,
    pub line: i64,
}

/// The order, oldest first, of results given as (when, where in its file), as indices into
/// `results`. A dated result sorts by its time; an undated one takes the time of the result
/// before it in file order (or, at the start, of the first dated one after it, and goes before
/// it); results with equal times keep their file order.
pub fn order(results: &[(Option<NaiveDateTime>, FilePlace)]) -> Vec<usize> {
    let mut by_file: Vec<usize> = (0..results.len()).collect();
    by_file.sort_by_key(|&i| (results[i].1, i));
    let first_dated = by_file.iter().find_map(|&i| results[i].0);
    let mut carried = first_dated;
    let mut placed: Vec<(Option<NaiveDateTime>, usize)> = Vec::with_capacity(results.len());
    for (rank, &i) in by_file.iter().enumerate() {
        if let Some(at) = results[i].0 {
            carried = Some(at);
        }
        placed.push((results[i].0.or(carried), rank));
    }
    placed.sort();
    placed.into_iter().map(|(_, rank)| by_file[rank]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<NaiveDateTime> {
        Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn place(batch: i64, line: i64) -> FilePlace {
        FilePlace { batch, line }
    }

    #[test]
    fn an_undated_error_stays_before_the_success_that_follows_it_in_the_file() {
        // Line 2: an undated error; line 3: the success. Loaded together, long after both.
        let r = [(at("2026-04-10 10:00"), place(5, 3)), (None, place(5, 2))];
        assert_eq!(order(&r), vec![1, 0]);
    }

    #[test]
    fn an_undated_result_follows_the_result_before_it_in_file_order() {
        let r = [
            (at("2026-04-01 09:00"), place(1, 2)),
            (None, place(1, 3)),
            (at("2026-04-01 12:00"), place(1, 4)),
            (at("2026-04-01 10:00"), place(2, 2)),
            (None, place(2, 3)),
        ];
        // 09:00, the undated one (09:00, line 3), 10:00 and its undated follower, 12:00.
        assert_eq!(order(&r), vec![0, 1, 3, 4, 2]);
    }

    #[test]
    fn without_any_date_the_file_order_stands() {
        let r = [
            (None, place(2, 1)),
            (None, place(1, 9)),
            (None, place(1, 3)),
        ];
        assert_eq!(order(&r), vec![2, 1, 0]);
    }
}
