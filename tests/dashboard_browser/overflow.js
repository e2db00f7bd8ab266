// Elements that stick out past the right edge of the screen, except inside a box that scrolls or clips them,
// and the page's own width when it is wider than the screen (the reader would have to scroll sideways).
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let clipped = false;
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(parent).overflowX)) {
        clipped = true;
        break;
      }
    }
    const name = `${element.tagName.toLowerCase()}.${element.className}#${element.id}`;
    if (!clipped) out.push(`${name} ends at ${Math.round(box.right)}px`);
  }
  const page = document.documentElement.scrollWidth;
  if (page > width) out.push(`page is ${page}px wide`);
  return out;
}
