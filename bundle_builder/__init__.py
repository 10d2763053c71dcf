"""Exports a tenant snapshot into a signed workstation bundle (docs/bundle.md).

    create_bundle(registry, tenant, out_path, name, ...)   take a seat, then write the ZIP
    build_bundle_for(registry, workstation, out_path)      the ZIP of an existing workstation
    build_bundle_file(registry, workstation)               the same in a new temporary folder
    write_bundle(tenant_db, spec, key, out_path)           the same from a file and a key
    export_infobase(tenant_db, dest, spec)                 only the workstation's database
"""

from bundle_builder.bundle import BundleResult, BundleSpec, write_bundle
from bundle_builder.create import build_bundle_file, build_bundle_for, create_bundle, download_name
from bundle_builder.export import ExportResult, ExportSpec, export_infobase
from bundle_builder.manifest import DATABASE, FORMAT, MANIFEST, MEMBERS, README, SIGNATURE

__all__ = [
    "DATABASE",
    "FORMAT",
    "MANIFEST",
    "MEMBERS",
    "README",
    "SIGNATURE",
    "BundleResult",
    "BundleSpec",
    "ExportResult",
    "ExportSpec",
    "build_bundle_file",
    "build_bundle_for",
    "create_bundle",
    "download_name",
    "export_infobase",
    "write_bundle",
]
