//! An in-place sort small enough for the wasm build.
//!
//! Each instantiation of the standard library's sorts adds 1.5 to 3.5 KB to
//! the shipped module; this heapsort adds a few hundred bytes. Sorting is
//! rare here (loading a stored session, listing the outbox, batching
//! deletes), so its speed is not what matters.

/// Sorts `v` into ascending order of `key`, in place, in O(n log n) time
/// and without allocating. Not stable: elements with equal keys may swap.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    // Moves v[root] down until it is not smaller than its children, within
    // v[..end].
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && key(&v[child]) < key(&v[child + 1]) {
            child += 1;
        }
        if key(&v[root]) >= key(&v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by_key;

    #[test]
    fn sorts_like_the_standard_sort() {
        // Deterministic pseudo-random inputs of many lengths, with repeats.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in (0..64).chain([100, 257, 1000, 4096]) {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed % (len as u64 / 2 + 1)
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_by_key(&mut v, |x| *x);
            assert_eq!(v, want, "length {len}");
        }
    }

    #[test]
    fn sorts_sorted_and_reversed_input_by_key() {
        let mut v: Vec<(u64, &str)> = (0..500).map(|i| (i, "x")).collect();
        sort_by_key(&mut v, |p| p.0);
        assert!(v.windows(2).all(|w| w[0].0 < w[1].0));
        v.reverse();
        sort_by_key(&mut v, |p| p.0);
        assert!(v.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
