"""Where the catalog's data comes from: the Etilize content feed and the Xorosoft ERP."""
