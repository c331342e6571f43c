//! Streaming table writer for CSV, CSV.gz and Parquet (used by the synthetic generator).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::pl;

use super::dates::{Day, format_day};
use super::read::FileFormat;
use crate::error::{Error, Result};

/// One column of a batch to write.
#[derive(Debug, Clone)]
pub enum WriteColumn {
    /// Text values.
    Text(Vec<Option<String>>),
    /// Whole numbers.
    Int(Vec<Option<i64>>),
    /// Dates (written as ISO text in CSV and as a `date32` column in Parquet).
    Date(Vec<Option<Day>>),
}

impl WriteColumn {
    fn len(&self) -> usize {
        match self {
            WriteColumn::Text(v) => v.len(),
            WriteColumn::Int(v) => v.len(),
            WriteColumn::Date(v) => v.len(),
        }
    }
}

enum Sink {
    Csv(Box<dyn Write>),
    // Boxed: the writer is large (about 700 bytes) beside the CSV sink.
    Parquet(Option<Box<polars_io::parquet::write::BatchedWriter<File>>>),
}

/// Writes a table batch by batch, so tables larger than memory can be produced.
pub struct TableWriter {
    path: PathBuf,
    names: Vec<String>,
    sink: Sink,
    rows: u64,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        action: "cannot write",
        source,
    }
}

impl TableWriter {
    /// Creates the file; the format comes from its name (`.csv`, `.csv.gz`, `.parquet`).
    pub fn create(path: &Path, names: &[&str]) -> Result<Self> {
        let format = FileFormat::of(path)?;
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let sink = match format {
            FileFormat::Csv => {
                let gz = path.to_string_lossy().to_lowercase().ends_with(".gz");
                let mut w: Box<dyn Write> = if gz {
                    Box::new(flate2::write::GzEncoder::new(
                        BufWriter::with_capacity(1 << 20, file),
                        flate2::Compression::fast(),
                    ))
                } else {
                    Box::new(BufWriter::with_capacity(1 << 20, file))
                };
                writeln!(w, "{}", names.join(",")).map_err(|e| io_err(path, e))?;
                Sink::Csv(w)
            }
            FileFormat::Parquet => Sink::Parquet(None),
        };
        Ok(TableWriter {
            path: path.to_path_buf(),
            names: names.iter().map(|s| s.to_string()).collect(),
            sink,
            rows: 0,
        })
    }

    /// Appends rows; `columns` are in the order of the names given to [`TableWriter::create`].
    pub fn write(&mut self, columns: &[WriteColumn]) -> Result<()> {
        let n = columns.first().map_or(0, WriteColumn::len);
        if columns.len() != self.names.len() || columns.iter().any(|c| c.len() != n) {
            return Err(Error::Output(format!(
                "{}: a batch must have {} columns of equal length",
                self.path.display(),
                self.names.len()
            )));
        }
        self.rows += n as u64;
        match &mut self.sink {
            Sink::Csv(w) => {
                let mut line = String::with_capacity(128);
                for i in 0..n {
                    line.clear();
                    for (k, c) in columns.iter().enumerate() {
                        if k > 0 {
                            line.push(',');
                        }
                        match c {
                            WriteColumn::Text(v) => {
                                if let Some(s) = &v[i] {
                                    if s.contains([',', '"', '\n', '\r']) {
                                        line.push('"');
                                        line.push_str(&s.replace('"', "\"\""));
                                        line.push('"');
                                    } else {
                                        line.push_str(s);
                                    }
                                }
                            }
                            WriteColumn::Int(v) => {
                                if let Some(x) = v[i] {
                                    line.push_str(&x.to_string());
                                }
                            }
                            WriteColumn::Date(v) => {
                                if let Some(d) = v[i] {
                                    line.push_str(&format_day(d));
                                }
                            }
                        }
                    }
                    line.push('\n');
                    w.write_all(line.as_bytes())
                        .map_err(|e| io_err(&self.path, e))?;
                }
                Ok(())
            }
            Sink::Parquet(writer) => {
                let df = to_frame(&self.names, columns, n)
                    .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?;
                if writer.is_none() {
                    let file = File::create(&self.path).map_err(|e| io_err(&self.path, e))?;
                    *writer = Some(Box::new(
                        pl::ParquetWriter::new(file)
                            .batched(df.schema())
                            .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?,
                    ));
                }
                if let Some(w) = writer {
                    w.write_batch(&df)
                        .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?;
                }
                Ok(())
            }
        }
    }

    /// Flushes and closes the file; returns the rows written.
    pub fn finish(self) -> Result<u64> {
        match self.sink {
            Sink::Csv(mut w) => w.flush().map_err(|e| io_err(&self.path, e))?,
            Sink::Parquet(Some(w)) => {
                w.finish()
                    .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?;
            }
            Sink::Parquet(None) => {
                // No batch was written: write an empty table with the right columns.
                let empty: Vec<WriteColumn> = self
                    .names
                    .iter()
                    .map(|_| WriteColumn::Text(Vec::new()))
                    .collect();
                let mut df = to_frame(&self.names, &empty, 0)
                    .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?;
                let file = File::create(&self.path).map_err(|e| io_err(&self.path, e))?;
                pl::ParquetWriter::new(file)
                    .finish(&mut df)
                    .map_err(|e| Error::Output(format!("{}: {e}", self.path.display())))?;
            }
        }
        Ok(self.rows)
    }
}

fn to_frame(
    names: &[String],
    columns: &[WriteColumn],
    n: usize,
) -> pl::PolarsResult<pl::DataFrame> {
    let mut cols = Vec::with_capacity(columns.len());
    for (name, c) in names.iter().zip(columns) {
        let col = match c {
            WriteColumn::Text(v) => pl::Column::new(name.as_str().into(), v),
            WriteColumn::Int(v) => pl::Column::new(name.as_str().into(), v),
            WriteColumn::Date(v) => {
                pl::Column::new(name.as_str().into(), v).cast(&pl::DataType::Date)?
            }
        };
        cols.push(col);
    }
    pl::DataFrame::new(n, cols)
}
