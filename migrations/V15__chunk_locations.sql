-- Where a chunk is in a paged source (issue #16 item 1): "p. 3", "p. 3–4" or "slide 2", so a citation
-- of a PDF or a slide deck names the page. NULL for formats without pages (Markdown, HTML, Word,
-- spreadsheets, whose sheet is the chunk's section). The column rides on the chunks table's row-level
-- security and grants; the app role already inserts and reads every chunks column.

ALTER TABLE chunks ADD COLUMN location text;
