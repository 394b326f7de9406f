/**
 * Scrolling arithmetic shared by the lists: which rows are visible for a cursor.
 *
 * Input:  windowStart(prevTop 0, cursor 30, height 20, count 50)
 * Output: 11 (the cursor is on the last visible row)
 */

export function clamp(n: number, lo: number, hi: number): number {
	return Math.max(lo, Math.min(hi, n));
}

/** First visible row: the previous one, moved just enough to show the cursor. */
export function windowStart(prevTop: number, cursor: number, height: number, count: number): number {
	if (height <= 0 || count <= height) return 0;
	let top = clamp(prevTop, 0, count - height);
	if (cursor < top) top = cursor;
	else if (cursor >= top + height) top = cursor - height + 1;
	return clamp(top, 0, count - height);
}
