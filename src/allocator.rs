//! A small allocator for the wasm build: power-of-two size classes with a
//! free list each, carved from memory the module grows and never returns.
//!
//! The standard library's wasm allocator (dlmalloc) is about 7 KB of code,
//! 3 KB of the shipped gzip; this is a few hundred bytes. The price is
//! memory: a block is rounded up to a power of two (at most twice its size)
//! and a freed block is only reused for its own class, never split or
//! merged. A wasm module's memory cannot shrink anyway, so what the client
//! keeps is bounded by its peak use per class. Allocation and free are O(1).
//!
//! [`Heap`] is the logic over an abstract source of pages, so native tests
//! run it on a `Vec`; the global allocator (wasm32 only) grows the module's
//! memory.

use core::ptr::null_mut;

/// Bytes in one wasm page, the unit memory grows by.
pub(crate) const PAGE: usize = 65536;
/// The smallest block: room for the free-list link, and the alignment every
/// block has (what `Layout`s ask for in practice).
const MIN: usize = 16;
/// Size classes 2^0 .. 2^31; those below `MIN` stay empty.
const CLASSES: usize = usize::BITS as usize;

/// Blocks of memory: free lists by size class over a bump region that grows
/// by whole pages from `grow`.
pub(crate) struct Heap<G> {
    /// The first free block of each class; a free block's first word links
    /// to the next.
    free: [usize; CLASSES],
    /// The unused rest of the region last grown: `next..end`.
    next: usize,
    end: usize,
    /// Adds `pages` pages of memory, returning the address of the first, or
    /// `None` when there is no more.
    grow: G,
}

/// The size class of a block for `size` bytes aligned to `align`: the
/// exponent of the power of two it is rounded up to; `None` above 2^31.
fn class(size: usize, align: usize) -> Option<usize> {
    let n = size.max(align).max(MIN).checked_next_power_of_two()?;
    Some(n.trailing_zeros() as usize)
}

impl<G: FnMut(usize) -> Option<usize>> Heap<G> {
    /// An empty heap that takes pages from `grow`.
    pub(crate) const fn new(grow: G) -> Self {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
            grow,
        }
    }

    /// A block of at least `size` bytes aligned to `align` (a power of two),
    /// or null when memory is exhausted or the request is too large.
    ///
    /// # Safety
    /// The memory `grow` hands out must be writable and unused by anything
    /// else, and every block on a free list must have come from
    /// [`Heap::dealloc`].
    pub(crate) unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let Some(k) = class(size, align) else {
            return null_mut();
        };
        let head = self.free[k];
        // A free block is MIN-aligned; a larger alignment (rare) is only
        // served from the free list when the block happens to have it.
        if head != 0 && head % align == 0 {
            // SAFETY: `head` is a free block of class k (at least MIN bytes,
            // MIN-aligned) whose first word dealloc wrote.
            self.free[k] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        self.bump(1 << k, align.max(MIN))
    }

    /// Takes `size` bytes aligned to `align` from the bump region, growing it.
    fn bump(&mut self, size: usize, align: usize) -> *mut u8 {
        let fits = |next: usize, end: usize| {
            let start = next.checked_add(align - 1)? & !(align - 1);
            let stop = start.checked_add(size)?;
            (stop <= end).then_some((start, stop))
        };
        if fits(self.next, self.end).is_none() {
            // Enough pages for the block at any alignment.
            let Some(pages) = size.checked_add(align).map(|n| n.div_ceil(PAGE)) else {
                return null_mut();
            };
            let Some(base) = (self.grow)(pages) else {
                return null_mut();
            };
            // New memory that does not continue the region starts a new one
            // (the old rest stays unused).
            if base != self.end {
                self.next = base;
            }
            self.end = base + pages * PAGE;
        }
        match fits(self.next, self.end) {
            Some((start, stop)) => {
                self.next = stop;
                start as *mut u8
            }
            None => null_mut(),
        }
    }

    /// Returns the block at `ptr`, allocated for `size` and `align`, to its
    /// class's free list.
    ///
    /// # Safety
    /// `ptr` must come from [`Heap::alloc`] (or [`Heap::realloc`]) of this
    /// heap with the same `size` and `align`, and not be used afterwards.
    pub(crate) unsafe fn dealloc(&mut self, ptr: *mut u8, size: usize, align: usize) {
        // The class exists: alloc computed the same one.
        if let Some(k) = class(size, align) {
            // SAFETY: the block is at least MIN bytes and MIN-aligned, and
            // no longer in use: its first word can hold the link.
            unsafe { *(ptr as *mut usize) = self.free[k] };
            self.free[k] = ptr as usize;
        }
    }

    /// Resizes the block at `ptr` to `new_size`: the same block when the
    /// class does not change, else a new one with the contents copied
    /// (null, with the old block untouched, when there is no memory).
    ///
    /// # Safety
    /// As [`Heap::dealloc`] for `ptr`, `size` and `align`.
    pub(crate) unsafe fn realloc(
        &mut self,
        ptr: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        if class(size, align) == class(new_size, align) {
            return ptr;
        }
        // SAFETY: forwarded from the caller.
        let new = unsafe { self.alloc(new_size, align) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least min(size, new_size) bytes and
            // are distinct (the old one is still allocated).
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, size.min(new_size));
                self.dealloc(ptr, size, align);
            }
        }
        new
    }
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod global {
    use super::{Heap, PAGE};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    /// Grows the module's memory by `pages`, returning the address of the
    /// first new byte.
    fn grow(pages: usize) -> Option<usize> {
        match core::arch::wasm32::memory_grow(0, pages) {
            usize::MAX => None,
            old => Some(old * PAGE),
        }
    }

    /// Where the global heap gets pages.
    type Grow = fn(usize) -> Option<usize>;

    /// The global allocator: one [`Heap`] over the module's memory.
    struct Global(UnsafeCell<Heap<Grow>>);

    // SAFETY: without the atomics feature a wasm module runs on one thread,
    // and the heap's methods do not call back into the allocator, so no two
    // accesses to the cell ever overlap.
    unsafe impl Sync for Global {}

    #[global_allocator]
    static ALLOC: Global = Global(UnsafeCell::new(Heap::new(grow)));

    // SAFETY: Heap returns blocks of at least the asked size and alignment,
    // distinct while allocated; memory_grow memory is used by nothing else
    // (the stack and static data lie below the initial memory size).
    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: single-threaded, not reentrant (see `Sync` above).
            unsafe { (*self.0.get()).alloc(layout.size(), layout.align()) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as alloc; `ptr` and `layout` come from alloc.
            unsafe { (*self.0.get()).dealloc(ptr, layout.size(), layout.align()) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as dealloc.
            unsafe { (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heap over `pages` pages of a boxed arena (page-aligned by offset).
    fn arena(pages: usize) -> (Vec<u8>, Heap<impl FnMut(usize) -> Option<usize>>) {
        let mut mem = vec![0u8; (pages + 1) * PAGE];
        let base = mem.as_mut_ptr() as usize;
        let mut top = base.next_multiple_of(PAGE);
        let limit = top + pages * PAGE;
        let heap = Heap::new(move |n: usize| {
            let start = top;
            let stop = start.checked_add(n * PAGE)?;
            (stop <= limit).then(|| {
                top = stop;
                start
            })
        });
        (mem, heap)
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused() {
        let (_mem, mut h) = arena(64);
        unsafe {
            let a = h.alloc(10, 1);
            let b = h.alloc(16, 8);
            let c = h.alloc(100, 64);
            assert!(!a.is_null() && !b.is_null() && !c.is_null());
            assert_eq!(a as usize % MIN, 0);
            assert_eq!(c as usize % 64, 0);
            assert_ne!(a, b);
            a.write_bytes(1, 10);
            b.write_bytes(2, 16);
            assert_eq!(*a.add(9), 1);
            h.dealloc(a, 10, 1);
            // The same class gets the freed block back.
            assert_eq!(h.alloc(12, 4), a);
            h.dealloc(c, 100, 64);
            assert_eq!(h.alloc(128, 64), c);
            // A larger alignment than the free block has gets a new block.
            h.dealloc(c, 128, 64);
            let d = h.alloc(128, 256);
            assert_eq!(d as usize % 256, 0);
        }
    }

    #[test]
    fn realloc_keeps_contents_and_moves_only_across_classes() {
        let (_mem, mut h) = arena(64);
        unsafe {
            let p = h.alloc(20, 1);
            for i in 0..20 {
                *p.add(i) = i as u8;
            }
            assert_eq!(h.realloc(p, 20, 1, 30), p);
            let q = h.realloc(p, 30, 1, 1000);
            assert_ne!(q, p);
            assert!((0..20).all(|i| *q.add(i) == i as u8));
            let r = h.realloc(q, 1000, 1, 8);
            assert!((0..8).all(|i| *r.add(i) == i as u8));
        }
    }

    #[test]
    fn large_blocks_span_pages_and_exhaustion_is_null() {
        let (_mem, mut h) = arena(16);
        unsafe {
            let big = h.alloc(5 * PAGE + 1, 1);
            assert!(!big.is_null());
            big.write_bytes(7, 5 * PAGE + 1);
            // 9 pages were grown for the 2^19 block; the 17 a 2^20 block needs cannot be had.
            assert!(h.alloc(10 * PAGE, 1).is_null());
            assert!(h.alloc(usize::MAX - 8, 1).is_null());
            h.dealloc(big, 5 * PAGE + 1, 1);
            assert_eq!(h.alloc(6 * PAGE, 1), big);
            // Small blocks still come from what is left.
            assert!(!h.alloc(100, 8).is_null());
        }
    }

    #[test]
    fn many_small_allocations_stay_within_the_arena() {
        let (_mem, mut h) = arena(8);
        unsafe {
            let mut blocks = Vec::new();
            for i in 0..2000 {
                let size = 1 + i % 200;
                let p = h.alloc(size, 1);
                assert!(!p.is_null());
                p.write_bytes(i as u8, size);
                blocks.push((p, size, i as u8));
            }
            for &(p, size, v) in &blocks {
                assert!((0..size).all(|j| *p.add(j) == v));
            }
            for (p, size, _) in blocks {
                h.dealloc(p, size, 1);
            }
        }
    }
}
