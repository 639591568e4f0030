#!/usr/bin/env bash
# The README's screenshots are the SVG snapshots the tests take at 80x24 (tests/__snapshots__).
# Regenerate the snapshots (`pytest --snapshot-update`, then review them), then run this to copy
# them here. Each line: the picture in docs/screens, the snapshot it is.
set -euo pipefail
cd "$(dirname "$0")"
snap=../../tests/__snapshots__
while read -r picture snapshot; do
    [ -n "$picture" ] && cp "$snap/$snapshot" "$picture"
done <<'LIST'
home.svg              test_tui/test_home_screen_snapshot_for_teamleader_us.svg
users.svg             test_screen_users/test_users_screen_snapshot_for_teamleader_us.svg
user-form-groups.svg  test_screen_users/test_new_user_form_groups_tab_snapshot_for_teamleader_us.svg
role-editor.svg       test_screen_groups_roles/test_role_editor_snapshot_for_teamleader_role.svg
access-explorer.svg   test_screen_insight/test_access_explorer_snapshot_operator_au_as_admin.svg
access-review.svg     test_review/test_review_screen_snapshot_for_manager_us.svg
bulk-marks.svg        test_screen_bulk/test_users_list_with_marks_snapshot.svg
bulk-preview.svg      test_screen_bulk/test_bulk_preview_with_a_refusal_snapshot.svg
LIST
