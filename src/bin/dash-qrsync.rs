fn main() {
    println!("dash-qrsync {}", dash_qrsync::VERSION);
}
