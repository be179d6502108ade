-- The 10 commune-level units of Huyện Đầm Hà and the district itself, as district staff load
-- them into the hub's replica with the sqlite3 shell (ids 'unit-CODE'). Run from this
-- directory: sqlite3 hub.db ".cd Deploy/demo" ".read units.sql".
.import --csv dam_ha_communes.csv staging
INSERT INTO units(id, code, name, kind, parent_id, effective_from, effective_to)
SELECT 'unit-' || commune_code, commune_code, commune_name,
       CASE commune_type WHEN 'Xã' THEN 'commune' WHEN 'Phường' THEN 'ward' ELSE 'township' END,
       'unit-200', '2008-01-01', CASE in_2023_05_07 WHEN '1' THEN NULL ELSE '2019-12-31' END
FROM staging;
DROP TABLE staging;
INSERT INTO units(id, code, name, kind) VALUES ('unit-200', '200', 'Huyện Đầm Hà', 'district');
