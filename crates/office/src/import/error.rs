//! Per-file import errors: each names the file-level problem in Chinese; nothing is applied.

/// Why a whole file was refused. Row-level problems are [`super::RowRefusal`]s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Empty upload.
    #[error("文件为空")]
    Empty,
    /// Upload larger than the configured limit.
    #[error("文件过大：{size} 字节，上限 {limit} 字节")]
    TooLarge { size: u64, limit: u64 },
    /// Extension not one of .xlsx, .xls, .csv.
    #[error("不支持的文件类型「{0}」：请上传 .xlsx、.xls 或 .csv 文件")]
    UnsupportedExtension(String),
    /// The bytes are not what the extension says (e.g. a .csv renamed to .xlsx).
    #[error("文件内容与扩展名不符：扩展名为 {extension}，内容看起来是{detected}")]
    ContentMismatch {
        extension: String,
        detected: &'static str,
    },
    /// Password-protected / encrypted workbook.
    #[error("工作簿已加密或设置了打开密码，请在 Excel/WPS 中取消密码后再导入")]
    Encrypted,
    /// Zip archive whose (declared or actual) uncompressed size exceeds the limit.
    #[error("压缩包解压后过大（至少 {size} 字节，上限 {limit} 字节），疑似压缩炸弹，已拒绝")]
    ZipTooLarge { size: u64, limit: u64 },
    /// Zip entry with an implausible compression ratio.
    #[error("压缩包中的「{entry}」压缩比异常（{ratio}:1），疑似压缩炸弹，已拒绝")]
    ZipRatio { entry: String, ratio: u64 },
    /// Too many zip entries.
    #[error("压缩包内文件过多（{count} 个，上限 {limit} 个），已拒绝")]
    ZipEntries { count: usize, limit: usize },
    /// Unsafe entry name (absolute path or `..`).
    #[error("压缩包中存在不安全的路径「{0}」，已拒绝")]
    ZipPath(String),
    /// DOCTYPE or ENTITY declaration in a workbook XML part (XXE / entity expansion).
    #[error("工作簿的「{part}」包含 DOCTYPE/ENTITY 声明（可能是 XXE 或实体膨胀攻击），已拒绝")]
    XmlDoctype { part: String },
    /// The archive could not be read.
    #[error("无法读取文件：{0}")]
    Corrupt(String),
    /// CSV text in an encoding we cannot decode.
    #[error("无法识别 CSV 的字符编码（支持 UTF-8、带 BOM 的 UTF-8 和 GBK）")]
    Encoding,
    /// `--sheet NAME` not in the workbook.
    #[error("工作簿中没有名为「{wanted}」的工作表（现有：{available}）")]
    SheetNotFound { wanted: String, available: String },
    /// No sheet has a recognizable header.
    #[error("未找到表头：工作表中没有可识别的“事项名称”等列（可手动指定列映射）")]
    NoHeader,
    /// Two columns of one sheet map to the same field.
    #[error("工作表「{sheet}」第 {row} 行表头重复：「{header}」出现在 {first} 列和 {second} 列")]
    DuplicateHeader {
        sheet: String,
        row: u32,
        header: String,
        first: String,
        second: String,
    },
    /// Too many columns in a sheet.
    #[error("工作表「{sheet}」列数过多（{count} 列，上限 {limit} 列）")]
    TooManyColumns {
        sheet: String,
        count: u32,
        limit: u32,
    },
    /// Too many rows in a sheet.
    #[error("工作表「{sheet}」行数过多（超过 {limit} 行）")]
    TooManyRows { sheet: String, limit: u32 },
}
