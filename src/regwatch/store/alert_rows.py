"""What every query that becomes an alert, a digest item or a feed entry selects beside `n.*` (the
notice as `n`): the version it follows (as `d`), its attachments and what it was before its last edit,
so `deliver.model.notice_item` reads one row shape wherever it is called from."""

from __future__ import annotations

ALERT_COLUMNS = (
    "d.id AS follows_id, d.title AS follows_title, d.url AS follows_url, d.published AS follows_published,"
    " d.deadline AS follows_deadline, d.status AS follows_status, d.body AS follows_body,"
    " d.attachment_text AS follows_attachment_text,"
    " (SELECT json_group_array(json_object('kind', f.kind, 'pages', f.pages, 'state', f.state)) FROM"
    "  (SELECT COALESCE(a.kind, a.type) AS kind, a.pages, a.state FROM attachments a WHERE a.notice_id = n.id"
    "   ORDER BY a.id) f) AS attachment_list,"
    " (SELECT count(*) FROM attachments a WHERE a.notice_id = n.id AND a.state = 'pending') AS attachments_pending,"
    # the version before the latest edit, for an edited notice's "what changed"
    " (SELECT h.title FROM notice_history h WHERE h.notice_id = n.id ORDER BY h.version DESC LIMIT 1)"
    "  AS previous_title,"
    " (SELECT h.published FROM notice_history h WHERE h.notice_id = n.id ORDER BY h.version DESC LIMIT 1)"
    "  AS previous_published,"
    " (SELECT h.body FROM notice_history h WHERE h.notice_id = n.id ORDER BY h.version DESC LIMIT 1)"
    "  AS previous_body")
ALERT_JOINS = "LEFT JOIN notices d ON d.id = n.follows"
